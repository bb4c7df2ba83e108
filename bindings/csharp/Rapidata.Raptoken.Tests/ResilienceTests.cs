using System;
using System.Diagnostics;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>Retries, backoff, the deadline and Retry-After, through the binding's options.</summary>
    [TestFixture]
    public class ResilienceTests
    {
        [Test]
        public void ClosedPortIsATransportErrorAfterEveryAttempt()
        {
            var log = new LogRecorder();
            string endpoint = "https://127.0.0.1:" + TestEnv.ClosedPort() + "/connect/token";
            var deadline = TimeSpan.FromSeconds(10);
            using (var o = TestEnv.Options(TestEnv.Basic()).WithTokenEndpoint(endpoint)
                       .WithMaxAttempts(3)
                       .WithRetryBackoff(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50))
                       .WithDeadline(deadline)
                       .WithLogCallback(log.Record, RaptokenLogLevel.Debug))
            using (var client = new RaptokenClient(o))
            {
                var clock = Stopwatch.StartNew();
                var e = Assert.Throws<RaptokenException>(() => client.GetToken());
                // A bound, not a speed goal: the deadline must end the fetch.
                Assert.That(clock.Elapsed, Is.LessThan(deadline));
                Assert.AreEqual(RaptokenStatus.Transport, e.Status, e.Message);
                var s = client.Stats();
                Assert.AreEqual(2, s.Retries, s.ToString());
                Assert.AreEqual(3, s.TokenRequests, "every attempt counts, refused or not: " + s);
                Assert.AreEqual(1, s.FetchesFailed, s.ToString());
                Assert.AreEqual(0, s.FetchesOk, s.ToString());
                Assert.AreEqual(RaptokenStatus.Transport, s.LastErrorStatus);
                Assert.AreEqual(0, s.LastErrorHttpStatus);
                Assert.IsNotNull(s.LastError);
                Assert.IsNull(s.LastSuccess);
                Assert.AreEqual(2, log.Count(RaptokenLogLevel.Warn), "one warning per retry:\n" + log.Dump());
            }

            using (var o = TestEnv.Options(TestEnv.Basic()).WithTokenEndpoint(endpoint).WithMaxAttempts(1))
            using (var client = new RaptokenClient(o))
            {
                Assert.AreEqual(RaptokenStatus.Transport, Assert.Throws<RaptokenException>(() => client.GetToken()).Status);
                Assert.AreEqual(0, client.Stats().Retries, "one attempt: no retries");
            }
        }

        [Test]
        public void DeadlineEndsAFetchTheServerHoldsBack()
        {
            var c = TestEnv.Slow();
            TestEnv.SetSlowDelay(6000);
            try
            {
                using (var o = TestEnv.Options(c).WithTokenEndpoint(TestEnv.TokenEndpoint)
                           .WithRequestTimeout(TimeSpan.FromSeconds(20))
                           .WithDeadline(TimeSpan.FromSeconds(1)))
                using (var client = new RaptokenClient(o))
                {
                    var clock = Stopwatch.StartNew();
                    var e = Assert.Throws<RaptokenException>(() => client.GetToken());
                    Assert.AreEqual(RaptokenStatus.Timeout, e.Status, e.Message);
                    // The server answers only after 6 s: an earlier error is the deadline's doing.
                    Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
                    Assert.AreEqual(RaptokenStatus.Timeout, client.Stats().LastErrorStatus);
                }
            }
            finally
            {
                TestEnv.SetSlowDelay(0);
            }
        }

        [Test]
        public void RetryAfterUpToTheCapIsWaitedFor()
        {
            // The server asks for 30 s; WithMaxRetryAfter caps the wait at 200 ms.
            using (var server = new ScriptedTokenEndpoint(ScriptedTokenEndpoint.TooManyRequests(30)))
            using (var o = new RaptokenOptions().WithClientId("scripted").WithClientSecret("scripted-secret")
                       .WithTokenEndpoint(server.Url)
                       .WithMaxRetryAfter(TimeSpan.FromMilliseconds(200))
                       .WithDeadline(TimeSpan.FromSeconds(10)))
            using (var client = new RaptokenClient(o))
            {
                TokenAssert.Same(ScriptedTokenEndpoint.Token, client.GetToken());
                Assert.AreEqual(2, server.Requests);
                var s = client.Stats();
                Assert.AreEqual(1, s.Retries, s.ToString());
                Assert.AreEqual(2, s.TokenRequests, s.ToString());
                Assert.AreEqual(1, s.FetchesOk, s.ToString());
            }
        }

        [Test]
        public void RetryAfterBeyondTheDeadlineThrottlesLaterCalls()
        {
            using (var server = new ScriptedTokenEndpoint(ScriptedTokenEndpoint.TooManyRequests(30)))
            using (var o = new RaptokenOptions().WithClientId("scripted").WithClientSecret("scripted-secret")
                       .WithTokenEndpoint(server.Url)
                       .WithMaxRetryAfter(TimeSpan.FromMinutes(1))
                       .WithDeadline(TimeSpan.FromSeconds(2)))
            using (var client = new RaptokenClient(o))
            {
                var before = DateTimeOffset.UtcNow;
                var e = Assert.Throws<RaptokenException>(() => client.GetToken());
                Assert.AreEqual(RaptokenStatus.Http, e.Status, e.Message);
                Assert.AreEqual(429, e.HttpStatus);
                Assert.IsNotNull(e.RetryAfter);
                Assert.That(e.RetryAfter.Value, Is.InRange(before.AddSeconds(29), DateTimeOffset.UtcNow.AddSeconds(31)));
                Assert.AreEqual(1, server.Requests, "waiting 30 s would pass the 2 s deadline: no retry");

                // Later calls are refused without a request, with the same instant.
                var again = Assert.Throws<RaptokenException>(() => client.GetTokenInfo(TimeSpan.Zero));
                Assert.AreEqual(e.RetryAfter, again.RetryAfter);
                Assert.AreEqual(1, server.Requests);
                var s = client.Stats();
                Assert.That(s.Throttled, Is.GreaterThanOrEqualTo(1), s.ToString());
                Assert.AreEqual(e.RetryAfter, s.ThrottledUntil);
                Assert.AreEqual(429, s.LastErrorHttpStatus);
                Assert.AreEqual(RaptokenStatus.Http, s.LastErrorStatus);
            }
        }

        [Test]
        public void BadResilienceValuesThrowAtOnce()
        {
            using (var o = new RaptokenOptions())
            {
                Action<TestDelegate> invalid = call =>
                    Assert.AreEqual(RaptokenStatus.InvalidArgument, Assert.Throws<RaptokenException>(call).Status);
                invalid(() => o.WithMaxAttempts(0));
                invalid(() => o.WithMaxAttempts(11));
                Assert.Throws<ArgumentOutOfRangeException>(() => o.WithMaxAttempts(-1));
                invalid(() => o.WithRetryBackoff(TimeSpan.Zero, TimeSpan.FromSeconds(1)));
                invalid(() => o.WithRetryBackoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
                Assert.Throws<ArgumentOutOfRangeException>(() => o.WithRetryBackoff(TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1)));
                invalid(() => o.WithDeadline(TimeSpan.Zero));
                invalid(() => o.WithTrust(0));
                invalid(() => o.WithTrust((Trust)4));
                invalid(() => o.WithProxy("not a proxy url"));
                Assert.Throws<ArgumentNullException>(() => o.WithProxy(null));
                o.WithMaxAttempts(1).WithMaxAttempts(10).WithMaxRetryAfter(TimeSpan.Zero)
                 .WithRetryBackoff(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1));
            }
        }
    }
}
