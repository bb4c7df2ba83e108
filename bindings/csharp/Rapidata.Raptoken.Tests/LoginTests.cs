using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Threading;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>
    /// RaptokenClient.Login against the test server's login bridge, its admin API playing the
    /// person at the browser: each login approves or refuses its own write key.
    /// </summary>
    [TestFixture]
    public class LoginTests
    {
        private static RaptokenOptions LoginOptions(string file, TimeSpan timeout) =>
            new RaptokenOptions().WithIssuer(TestEnv.Issuer).WithCaFile(TestEnv.CaFile).WithCredentialsFile(file).WithLoginTimeout(timeout);

        private static void Decide(string url, string action)
        {
            int at = url.IndexOf("writeKey=", StringComparison.Ordinal);
            Assert.That(at, Is.GreaterThan(0), url);
            using (var web = new WebClient()) web.UploadString(TestEnv.Admin + "/login/" + action + "?" + url.Substring(at), "POST", "");
        }

        [Test]
        public void StoresCredentialsThatAClientWithoutThemUses()
        {
            string dir = TestEnv.TempDir();
            try
            {
                string file = Path.Combine(dir, "rapidata", "credentials.json");
                string seen = null;
                using (var o = LoginOptions(file, TimeSpan.FromSeconds(30)))
                {
                    RaptokenClient.Login(o, url => { seen = url; Decide(url, "approve"); });
                }
                StringAssert.Contains("/connect/authorize/external?clientId=rapidata-cli&scope=openid%20profile%20email%20api&writeKey=", seen);
                StringAssert.Contains("\"client_secret\"", File.ReadAllText(file));
                using (var o = new RaptokenOptions().WithIssuer(TestEnv.Issuer).WithCaFile(TestEnv.CaFile).WithCredentialsFile(file))
                using (var client = new RaptokenClient(o))
                {
                    Assert.That(client.GetToken(), Is.Not.Empty);
                }
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Test]
        public void RefusedAndTimedOutThrowTheirStatus()
        {
            string dir = TestEnv.TempDir();
            try
            {
                string file = Path.Combine(dir, "credentials.json");
                using (var o = LoginOptions(file, TimeSpan.FromSeconds(1)))
                {
                    var e = Assert.Throws<RaptokenException>(() => RaptokenClient.Login(o, url => Decide(url, "refuse")));
                    Assert.AreEqual(RaptokenStatus.OAuth, e.Status, e.Message);
                    Assert.AreEqual("access_denied", e.OAuthCode);
                    Assert.AreEqual(403, e.HttpStatus);
                    e = Assert.Throws<RaptokenException>(() => RaptokenClient.Login(o, url => { }));
                    Assert.AreEqual(RaptokenStatus.Timeout, e.Status, e.Message);
                }
                Assert.IsFalse(File.Exists(file));
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Test]
        public void CancellingTheTokenEndsTheLogin()
        {
            string dir = TestEnv.TempDir();
            try
            {
                string file = Path.Combine(dir, "credentials.json");
                using (var o = LoginOptions(file, TimeSpan.FromMinutes(1)))
                using (var cts = new CancellationTokenSource())
                {
                    var sw = new Stopwatch();
                    var task = RaptokenClient.LoginAsync(o, url =>
                    {
                        sw.Start();
                        cts.CancelAfter(200);
                    }, cts.Token);
                    Assert.Throws<AggregateException>(() => task.Wait(TimeSpan.FromSeconds(30)));
                    Assert.IsTrue(task.IsCanceled, "a cancelled login gives a cancelled task: " + task.Status);
                    // Noticed within 20 ms while waiting; 10 s leaves room for a loaded machine.
                    Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
                    Assert.Throws<OperationCanceledException>(() => RaptokenClient.Login(o, url => Assert.Fail("no URL"), cts.Token));
                }
                Assert.IsFalse(File.Exists(file));
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Test]
        public void AnExceptionFromTheUrlCallbackEndsTheLoginAndIsRethrown()
        {
            string dir = TestEnv.TempDir();
            try
            {
                using (var o = LoginOptions(Path.Combine(dir, "credentials.json"), TimeSpan.FromMinutes(1)))
                {
                    var sw = Stopwatch.StartNew();
                    Assert.Throws<InvalidOperationException>(() => RaptokenClient.Login(o, url => { throw new InvalidOperationException("no window"); }));
                    Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
                }
                Assert.AreEqual(11, (int)RaptokenStatus.Cancelled);
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }
    }
}
