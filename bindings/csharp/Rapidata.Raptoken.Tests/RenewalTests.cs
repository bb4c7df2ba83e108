using System;
using System.Threading;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    [TestFixture]
    public class RenewalTests
    {
        [Test]
        public void ShortLivedTokenIsRenewedFromTheRefreshInstantOn()
        {
            var c = TestEnv.Short();
            using (var client = TestEnv.Client(c))
            {
                var first = client.GetTokenInfo(TimeSpan.Zero);
                Assert.AreEqual(TimeSpan.FromSeconds(3), first.Lifetime);
                TokenAssert.Same(first.Value, client.GetToken(), "before the refresh instant");
                Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));

                // Wait for the instant the library reported (not a race: a deadline it promised).
                var wait = first.RefreshAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(50);
                Assert.That(wait, Is.LessThan(TimeSpan.FromSeconds(3)), "refresh instant too far away");
                if (wait > TimeSpan.Zero) Thread.Sleep(wait);

                // The call that finds the token due starts the renewal in the background and still
                // gets the current token; the new one follows (bounded wait).
                string second = client.GetToken();
                var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
                while (second == first.Value && DateTime.UtcNow < until)
                {
                    Thread.Sleep(5);
                    second = client.GetToken();
                }
                TokenAssert.Different(first.Value, second);
                Assert.AreEqual(2, TestEnv.TokenRequests(c.Id));
                var info = client.GetTokenInfo(TimeSpan.Zero);
                TokenAssert.Same(second, info.Value);
                Assert.That(info.ExpiresAt, Is.GreaterThan(first.ExpiresAt));
            }
        }

        [Test]
        public void MinimumValidityBeyondTheCurrentTokenForcesARenewal()
        {
            var c = TestEnv.Short();
            using (var client = TestEnv.Client(c))
            {
                string first = client.GetToken();
                // A 3 s token is usable for 2.7 s; after 0.5 s less than 2.5 s of it is left.
                Thread.Sleep(500);
                string renewed = client.GetTokenInfo(TimeSpan.FromMilliseconds(2500)).Value;
                TokenAssert.Different(first, renewed);
                // The memo follows the library: GetToken now returns the renewed token too.
                TokenAssert.Same(renewed, client.GetToken());
            }
        }
    }
}
