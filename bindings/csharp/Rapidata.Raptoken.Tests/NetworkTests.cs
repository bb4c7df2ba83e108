using System;
using System.Linq;
using System.Text;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>Trust roots and proxies, against the real test server.</summary>
    [TestFixture]
    public class NetworkTests
    {
        [Test]
        public void SystemRootsWithoutTheTestCaAreATransportError()
        {
            var c = TestEnv.Basic();
            // The system roots plus an unrelated CA: nothing vouches for the test server.
            using (var o = TestEnv.Options(c).WithCaFile(TestEnv.WrongCaFile).WithTrust(Trust.System))
            using (var client = new RaptokenClient(o))
            {
                var e = Assert.Throws<RaptokenException>(() => client.GetToken());
                Assert.AreEqual(RaptokenStatus.Transport, e.Status, e.Message);
            }
            Assert.AreEqual(0, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void SystemRootsPlusTheTestCaWork()
        {
            var c = TestEnv.Basic();
            using (var o = TestEnv.Options(c).WithTrust(Trust.System))
            using (var client = new RaptokenClient(o))
                Assert.IsNotEmpty(client.GetToken());
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void BuiltinRootsCombinedWithOthersAreAConfigError()
        {
            foreach (var o in new[] { TestEnv.Options(TestEnv.Basic()).WithTrust(Trust.Builtin),          // with the CA file
                                      TestEnv.Options(TestEnv.Basic()).WithTrust(Trust.Builtin | Trust.System) })
            {
                using (o)
                {
                    var e = Assert.Throws<RaptokenException>(() => new RaptokenClient(o).Dispose());
                    Assert.AreEqual(RaptokenStatus.Config, e.Status, e.Message);
                }
            }
        }

        [Test]
        public void EmptyProxyConnectsDirectly()
        {
            var c = TestEnv.Basic();
            using (var o = TestEnv.Options(c).WithProxy(""))
            using (var client = new RaptokenClient(o))
                Assert.IsNotEmpty(client.GetToken());
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void ProxyCarriesEveryRequestAndItsPasswordIsNeverLogged()
        {
            var c = TestEnv.Basic();
            var log = new LogRecorder();
            const string password = "pr0xy-pa55word";
            using (var proxy = new ConnectProxy())
            using (var o = TestEnv.Options(c).WithProxy("http://tester:" + password + "@127.0.0.1:" + proxy.Port)
                       .WithLogCallback(log.Record, RaptokenLogLevel.Debug))
            using (var client = new RaptokenClient(o))
            {
                string token = client.GetToken();
                Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
                string target = "CONNECT " + new Uri(TestEnv.Issuer).Authority + " HTTP/1.1";
                var heads = proxy.Heads.ToArray();
                Assert.IsNotEmpty(heads);
                foreach (var head in heads)
                {
                    StringAssert.StartsWith(target, head);
                    string basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("tester:" + password));
                    var auth = head.Split(new[] { "\r\n" }, StringSplitOptions.None)
                        .Where(h => h.StartsWith("Proxy-Authorization:", StringComparison.OrdinalIgnoreCase))
                        .Select(h => h.Substring("Proxy-Authorization:".Length).Trim()).ToArray();
                    Assert.AreEqual(new[] { "Basic " + basic }, auth, "the proxy credentials, once");
                }
                Assert.IsNotEmpty(log.Lines);
                log.AssertNoneContains(password, c.Secret, token);
            }
        }

        [Test]
        public void ProxyDownIsATransportErrorAndNothingReachesTheServer()
        {
            var c = TestEnv.Basic();
            using (var o = TestEnv.Options(c).WithProxy("http://127.0.0.1:" + TestEnv.ClosedPort()).WithMaxAttempts(1))
            using (var client = new RaptokenClient(o))
            {
                var e = Assert.Throws<RaptokenException>(() => client.GetToken());
                Assert.AreEqual(RaptokenStatus.Transport, e.Status, e.Message);
            }
            Assert.AreEqual(0, TestEnv.TokenRequests(c.Id));
        }
    }
}
