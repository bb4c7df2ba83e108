using System;
using System.IO;
using System.Reflection;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    [TestFixture]
    public class TokenTests
    {
        [Test]
        public void FetchesOnceAndReusesTheToken()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                string first = client.GetToken();
                Assert.IsNotEmpty(first);
                for (int i = 0; i < 100; i++) TokenAssert.Same(first, client.GetToken());
                TokenAssert.Same(first, client.GetTokenInfo(TimeSpan.Zero).Value);
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void TokenInfoReportsTheServersLifetime()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                var before = DateTimeOffset.UtcNow;
                var token = client.GetTokenInfo(TimeSpan.Zero);
                var after = DateTimeOffset.UtcNow;
                Assert.AreEqual(TimeSpan.FromHours(1), token.Lifetime);
                // Counted from when the request was sent, less up to a second for the server's
                // whole-second clock (and the millisecond the ABI rounds to).
                Assert.That(token.ExpiresAt, Is.InRange(before.AddHours(1).AddSeconds(-2), after.AddHours(1)));
                Assert.That(token.RefreshAt, Is.GreaterThan(after).And.LessThan(token.ExpiresAt));
                Assert.IsFalse(token.ToString().Contains(token.Value), "ToString must not show the token");
            }
        }

        [Test]
        public void ClientSecretPostClientGetsAToken()
        {
            var c = TestEnv.Post();
            using (var client = TestEnv.Client(c)) Assert.IsNotEmpty(client.GetToken());
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void SecretWithReservedCharactersIsEncoded()
        {
            var c = new TestCredentials("special", "s3cr+t: /%&= x", AuthMethod.ClientSecretBasic);
            using (var client = TestEnv.Client(c)) Assert.IsNotEmpty(client.GetToken());
        }

        [Test]
        public void IdAndSecretConstructorTakesTheRestFromTheEnvironment()
        {
            // The suite exports RAPIDATA_ISSUER and RAPIDATA_CA_FILE (but no credentials).
            Assert.AreEqual(TestEnv.Issuer, Environment.GetEnvironmentVariable("RAPIDATA_ISSUER"));
            var c = TestEnv.Basic();
            using (var client = new RaptokenClient(c.Id, c.Secret)) Assert.IsNotEmpty(client.GetToken());
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void TokenEndpointOptionSkipsDiscovery()
        {
            var c = TestEnv.Basic();
            // Nothing listens on the issuer's port: only a skipped discovery can succeed.
            using (var options = TestEnv.Options(c).WithIssuer("https://127.0.0.1:9").WithTokenEndpoint(TestEnv.TokenEndpoint))
            using (var client = new RaptokenClient(options))
                Assert.IsNotEmpty(client.GetToken());
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void EverySetterAcceptsAValidValue()
        {
            var c = TestEnv.Basic();
            using (var options = new RaptokenOptions()
                       .WithEnvironment("rapidata.ai")
                       .WithIssuer(TestEnv.Issuer) // wins over the environment
                       .WithTokenEndpoint(TestEnv.TokenEndpoint)
                       .WithScope("openid email")
                       .WithCaFile(TestEnv.CaFile)
                       .WithCredentialsFile("/nonexistent/credentials.json")
                       .WithClientId(c.Id)
                       .WithClientSecret(c.Secret)
                       .WithAuthMethod(AuthMethod.ClientSecretBasic)
                       .WithConnectTimeout(TimeSpan.FromSeconds(3))
                       .WithRequestTimeout(TimeSpan.FromSeconds(8))
                       .WithExpiryMargin(TimeSpan.FromSeconds(20))
                       .WithRefreshAhead(TimeSpan.FromMinutes(2))
                       .WithMaxAttempts(2)
                       .WithRetryBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1))
                       .WithMaxRetryAfter(TimeSpan.FromSeconds(10))
                       .WithDeadline(TimeSpan.FromSeconds(20))
                       .WithTrust(Trust.System) // with the CA file: the system roots and the test CA
                       .WithProxy("")
                       .WithLogCallback((level, line) => { }, RaptokenLogLevel.Debug))
            using (var client = new RaptokenClient(options))
            {
                var token = client.GetTokenInfo(TimeSpan.Zero);
                // refresh = expiry - margin - window
                Assert.That(token.ExpiresAt - token.RefreshAt,
                    Is.InRange(TimeSpan.FromSeconds(139), TimeSpan.FromSeconds(141)));
            }
        }

        [Test]
        public void CredentialsFileSuppliesTheClient()
        {
            var c = TestEnv.Basic();
            string dir = TestEnv.TempDir();
            try
            {
                string file = Path.Combine(dir, "credentials.json");
                TestEnv.WritePrivateFile(file, "{\"" + TestEnv.Issuer + "\": [" +
                    "{\"display_name\": \"old\", \"client_id\": \"basic-63\", \"client_secret\": \"wrong\", \"last_used\": \"2020-01-01T00:00:00Z\"}," +
                    "{\"display_name\": \"ci\", \"client_id\": \"" + c.Id + "\", \"client_secret\": \"" + c.Secret + "\", " +
                    "\"endpoint\": \"" + TestEnv.Issuer + "\", \"created_at\": \"2026-01-01T00:00:00+00:00\", " +
                    "\"last_used\": \"2026-01-02T10:00:00.123456Z\"}]}");
                using (var options = new RaptokenOptions().WithIssuer(TestEnv.Issuer).WithCaFile(TestEnv.CaFile).WithCredentialsFile(file))
                using (var client = new RaptokenClient(options))
                    Assert.IsNotEmpty(client.GetToken());
                Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Test]
        public void InvalidateDropsOnlyTheCurrentToken()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                string first = client.GetToken();
                Assert.IsTrue(client.Invalidate(first));
                string second = client.GetToken();
                TokenAssert.Different(first, second);
                Assert.IsFalse(client.Invalidate(first), "a stale token must not drop its successor");
                TokenAssert.Same(second, client.GetToken());
                Assert.IsFalse(client.Invalidate("never-issued"));
                TokenAssert.Same(second, client.GetToken());
            }
            Assert.AreEqual(2, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void TooSmallBufferIsRetriedWithTheSizeTheLibraryAsksFor()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                string token = client.GetToken();
                // Pretend the last token was 1 byte long: the next one does not fit.
                var field = typeof(RaptokenClient).GetField("bufferSize", BindingFlags.NonPublic | BindingFlags.Instance);
                Assert.IsNotNull(field);
                field.SetValue(client, 2);
                TokenAssert.Same(token, client.GetTokenInfo(TimeSpan.Zero).Value);
                Assert.AreEqual(token.Length + 1, field.GetValue(client));
            }
        }

        [Test]
        public void MinimumValidityLongerThanAnyTokenReturnsTheCurrentOne()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                string first = client.GetToken();
                var token = client.GetTokenInfo(TimeSpan.FromHours(5));
                TokenAssert.Same(first, token.Value);
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }
    }
}
