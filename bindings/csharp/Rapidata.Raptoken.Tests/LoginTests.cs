using System;
using System.Diagnostics;
using System.IO;
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

        // Each test's own directory for its credentials file.
        private string dir;

        [SetUp]
        public void MakeDir() => dir = TestEnv.TempDir();

        [TearDown]
        public void RemoveDir() => Directory.Delete(dir, true);

        private static void Decide(string url, string action)
        {
            int at = url.IndexOf("writeKey=", StringComparison.Ordinal);
            Assert.That(at, Is.GreaterThan(0), url);
            TestEnv.AdminCall("POST", "/login/" + action + "?" + url.Substring(at));
        }

        [Test]
        public void StoresCredentialsThatAClientWithoutThemUses()
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

        [Test]
        public void RefusedAndTimedOutThrowTheirStatus()
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

        [Test]
        public void CancellingTheTokenEndsTheLogin()
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

        [Test]
        public void AnExceptionFromTheUrlCallbackEndsTheLoginAndIsRethrown()
        {
            using (var o = LoginOptions(Path.Combine(dir, "credentials.json"), TimeSpan.FromMinutes(1)))
            {
                var sw = Stopwatch.StartNew();
                Assert.Throws<InvalidOperationException>(() => RaptokenClient.Login(o, url => { throw new InvalidOperationException("no window"); }));
                Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
            }
        }
    }
}
