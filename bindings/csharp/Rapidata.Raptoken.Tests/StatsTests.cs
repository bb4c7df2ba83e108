using System;
using System.Threading;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>RaptokenClient.Stats(): the library's counters, plus the binding's memo hits.</summary>
    [TestFixture]
    public class StatsTests
    {
        [Test]
        public void StatsCountRequestsAndCacheHits()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                var zero = client.Stats();
                Assert.AreEqual(0, zero.CacheHits + zero.TokenRequests + zero.DiscoveryRequests + zero.FetchesOk
                                   + zero.FetchesFailed + zero.Retries + zero.Throttled + zero.KeptServing);
                Assert.IsNull(zero.LastSuccess);
                Assert.IsNull(zero.LastError);
                Assert.IsNull(zero.ThrottledUntil);
                Assert.AreEqual(RaptokenStatus.Ok, zero.LastErrorStatus);

                var before = DateTimeOffset.UtcNow;
                string token = client.GetToken();
                var after = DateTimeOffset.UtcNow;
                for (int i = 0; i < 10; i++) client.GetToken();                      // the memo
                for (int i = 0; i < 5; i++) client.GetTokenInfo(TimeSpan.Zero);      // the library's cache
                var s = client.Stats();
                Assert.AreEqual(15, s.CacheHits, s.ToString());
                Assert.AreEqual(1, s.TokenRequests, s.ToString());
                Assert.AreEqual(1, s.DiscoveryRequests, s.ToString());
                Assert.AreEqual(1, s.FetchesOk, s.ToString());
                Assert.AreEqual(0, s.FetchesFailed + s.Retries + s.Throttled + s.KeptServing, s.ToString());
                Assert.IsNotNull(s.LastSuccess);
                // Whole milliseconds: allow 1 ms each side.
                Assert.That(s.LastSuccess.Value, Is.InRange(before.AddMilliseconds(-1), after.AddMilliseconds(1)));
                Assert.IsNull(s.LastError);
                Assert.AreEqual(RaptokenStatus.Ok, s.LastErrorStatus);
                Assert.AreEqual(0, s.LastErrorHttpStatus);
                StringAssert.Contains("token requests 1", s.ToString());
                Assert.IsFalse(s.ToString().Contains(token));
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id), "the server agrees");
        }

        [Test]
        public void MemoHitsFromManyThreadsAreAllCounted()
        {
            using (var client = TestEnv.Client(TestEnv.Basic()))
            {
                client.GetToken();
                const int threads = 8, calls = 10000;
                var workers = new Thread[threads];
                for (int t = 0; t < threads; t++)
                {
                    workers[t] = new Thread(() => { for (int i = 0; i < calls; i++) client.GetToken(); });
                    workers[t].Start();
                }
                foreach (var w in workers) w.Join();
                var s = client.Stats();
                Assert.AreEqual(threads * calls, s.CacheHits, s.ToString());
                Assert.AreEqual(1, s.TokenRequests);
            }
        }

        [Test]
        public void StatsAfterDisposeThrowObjectDisposed()
        {
            var client = TestEnv.Client(TestEnv.Basic());
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.Stats());
        }
    }
}
