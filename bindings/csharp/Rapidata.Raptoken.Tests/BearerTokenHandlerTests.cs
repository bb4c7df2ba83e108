using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using NUnit.Framework;
using Rapidata.Raptoken;
using RaptokenExample;

namespace Rapidata.Raptoken.Tests
{
    [TestFixture]
    public class BearerTokenHandlerTests
    {
        private static HttpClient Http(RaptokenClient client) =>
            new HttpClient(new BearerTokenHandler(client, new HttpClientHandler())) { Timeout = TimeSpan.FromSeconds(20) };

        [Test]
        public void SendsTheClientsTokenAsBearer()
        {
            var c = TestEnv.Basic();
            using (var api = new LocalApi())
            using (var client = TestEnv.Client(c))
            using (var http = Http(client))
            {
                for (int i = 0; i < 3; i++)
                    using (var response = http.GetAsync(api.Url + "me").Result)
                        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
                string expected = "Bearer " + client.GetToken();
                Assert.AreEqual(3, api.Seen.Count);
                Assert.IsTrue(api.Seen.All(s => s.Item1 == expected));
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void UnauthorizedInvalidatesAndRetriesOnceWithANewToken()
        {
            var c = TestEnv.Basic();
            using (var api = new LocalApi())
            using (var client = TestEnv.Client(c))
            using (var http = Http(client))
            {
                string stale = client.GetToken();
                api.Reject(stale);
                var content = new StringContent("{\"payload\":42}", Encoding.UTF8, "application/json");
                using (var response = http.PostAsync(api.Url + "orders", content).Result)
                    Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
                string fresh = client.GetToken();
                TokenAssert.Different(stale, fresh);
                var seen = api.Seen.ToArray();
                Assert.AreEqual(2, seen.Length);
                TokenAssert.Same("Bearer " + stale, seen[0].Item1, "first attempt");
                TokenAssert.Same("Bearer " + fresh, seen[1].Item1, "retry");
                // The retry sent the same body again.
                Assert.IsTrue(seen.All(s => s.Item2 == "{\"payload\":42}"));
            }
            Assert.AreEqual(2, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void ConcurrentUnauthorizedResponsesCauseOneRenewal()
        {
            var c = TestEnv.Basic();
            using (var api = new LocalApi())
            using (var client = TestEnv.Client(c))
            using (var http = Http(client))
            {
                string stale = client.GetToken();
                api.Reject(stale);
                var responses = Task.WhenAll(Enumerable.Range(0, 16).Select(i => http.GetAsync(api.Url + "me?i=" + i))).Result;
                Assert.IsTrue(responses.All(r => r.StatusCode == HttpStatusCode.OK));
                foreach (var r in responses) r.Dispose();
                var tokens = api.Seen.Select(s => s.Item1).Distinct().ToList();
                Assert.AreEqual(2, tokens.Count, "the stale token and one renewed token");
                Assert.IsTrue(tokens.Contains("Bearer " + stale) && tokens.Contains("Bearer " + client.GetToken()));
            }
            Assert.AreEqual(2, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void RetriesOnlyOnce()
        {
            var c = TestEnv.Basic();
            using (var api = new LocalApi { RejectAll = true })
            using (var client = TestEnv.Client(c))
            using (var http = Http(client))
            using (var response = http.GetAsync(api.Url + "me").Result)
            {
                Assert.AreEqual(HttpStatusCode.Unauthorized, response.StatusCode);
                Assert.AreEqual(2, api.Seen.Count);
            }
            Assert.AreEqual(2, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void RealApiRevocationIsRecoveredWithOneRenewal()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            using (var http = new HttpClient(new BearerTokenHandler(client, CustomCa.Handler(TestEnv.FrontCaFile))))
            {
                using (var response = http.GetAsync(TestEnv.FrontApi).Result)
                    Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
                string before = client.GetToken();
                TestEnv.Revoke(c.Id);
                using (var response = http.GetAsync(TestEnv.FrontApi).Result)
                {
                    Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
                    StringAssert.Contains(c.Id, response.Content.ReadAsStringAsync().Result);
                }
                TokenAssert.Different(before, client.GetToken());
            }
            Assert.AreEqual(2, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void ExampleCaCheckRejectsAServerFromAnotherCa()
        {
            // The example's validator trusts only the given CA: the test server's own CA does not
            // vouch for the RSA front.
            using (var http = new HttpClient(CustomCa.Handler(TestEnv.WrongCaFile)))
                Assert.Throws<AggregateException>(() => http.GetAsync(TestEnv.FrontApi).Wait());
        }
    }
}
