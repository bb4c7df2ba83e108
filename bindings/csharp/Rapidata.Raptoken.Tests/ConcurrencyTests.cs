using System;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    [TestFixture]
    public class ConcurrencyTests
    {
        /// <summary>Runs <paramref name="body"/> on <paramref name="n"/> threads released together.</summary>
        internal static T[] OnThreads<T>(int n, Func<int, T> body)
        {
            var results = new T[n];
            var errors = new Exception[n];
            var gate = new Barrier(n);
            var threads = Enumerable.Range(0, n).Select(i => new Thread(() =>
            {
                try
                {
                    gate.SignalAndWait();
                    results[i] = body(i);
                }
                catch (Exception e)
                {
                    errors[i] = e;
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            foreach (var t in threads) Assert.IsTrue(t.Join(TimeSpan.FromSeconds(30)), "a thread hung");
            foreach (var e in errors) if (e != null) throw new AssertionException("a thread failed: " + e);
            return results;
        }

        [Test]
        public void ThirtyTwoThreadsOnAColdClientShareOneRequest()
        {
            var c = TestEnv.Slow();
            // The server holds the answer back, so all 32 callers really arrive while it is in flight.
            TestEnv.SetSlowDelay(300);
            try
            {
                using (var client = TestEnv.Client(c))
                {
                    var tokens = OnThreads(32, i => client.GetToken());
                    Assert.AreEqual(1, tokens.Distinct().Count());
                    Assert.IsNotEmpty(tokens[0]);
                }
            }
            finally
            {
                TestEnv.SetSlowDelay(0);
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void ManyThreadsInvalidatingTheSameTokenCauseOneRenewal()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                string stale = client.GetToken();
                var dropped = OnThreads(16, i => client.Invalidate(stale));
                Assert.AreEqual(1, dropped.Count(d => d), "exactly one caller drops the token");
                var fresh = OnThreads(16, i => client.GetToken());
                Assert.AreEqual(1, fresh.Distinct().Count());
                TokenAssert.Different(stale, fresh[0]);
            }
            Assert.AreEqual(2, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void WarmCallsFromManyThreadsNeverRefetch()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                string token = client.GetToken();
                var seen = OnThreads(8, i =>
                {
                    for (int k = 0; k < 10000; k++)
                        if (client.GetToken() != token || client.GetTokenInfo(TimeSpan.Zero).Value != token)
                            return false;
                    return true;
                });
                Assert.IsTrue(seen.All(ok => ok));
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }
    }
}
