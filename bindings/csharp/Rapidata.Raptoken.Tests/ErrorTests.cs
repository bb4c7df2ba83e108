using System;
using System.IO;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    [TestFixture]
    public class ErrorTests
    {
        private static RaptokenException FetchFails(RaptokenOptions options)
        {
            using (options)
            using (var client = new RaptokenClient(options))
                return Assert.Throws<RaptokenException>(() => client.GetToken());
        }

        [Test]
        public void WrongSecretIsAnOAuthInvalidClientError()
        {
            var c = TestEnv.Basic();
            const string secret = "not-the-secret-4711";
            var e = FetchFails(TestEnv.Options(c).WithClientSecret(secret));
            Assert.AreEqual(RaptokenStatus.OAuth, e.Status);
            Assert.AreEqual("invalid_client", e.OAuthCode);
            Assert.AreEqual(401, e.HttpStatus);
            Assert.IsNotNull(e.OAuthDescription);
            Assert.IsNull(e.RetryAfter);
            StringAssert.DoesNotContain(secret, e.ToString());
            StringAssert.DoesNotContain(secret, e.OAuthDescription);
        }

        [Test]
        public void WrongAuthMethodIsRejectedAsInvalidClient()
        {
            var c = TestEnv.Post(); // this client only accepts client_secret_post
            var e = FetchFails(TestEnv.Options(c).WithAuthMethod(AuthMethod.ClientSecretBasic));
            Assert.AreEqual(RaptokenStatus.OAuth, e.Status);
            Assert.AreEqual("invalid_client", e.OAuthCode);
        }

        [Test]
        public void UnknownScopeIsAnOAuthInvalidScopeError()
        {
            var e = FetchFails(TestEnv.Options(TestEnv.Basic()).WithScope("openid not-a-scope"));
            Assert.AreEqual(RaptokenStatus.OAuth, e.Status);
            Assert.AreEqual("invalid_scope", e.OAuthCode);
            Assert.AreEqual(400, e.HttpStatus);
        }

        [Test]
        public void WrongCaIsATransportError()
        {
            var e = FetchFails(TestEnv.Options(TestEnv.Basic()).WithCaFile(TestEnv.WrongCaFile));
            Assert.AreEqual(RaptokenStatus.Transport, e.Status);
            Assert.AreEqual(0, e.HttpStatus);
            Assert.IsNull(e.OAuthCode);
        }

        [Test]
        public void NoCredentialsAnywhereIsNoCredentials()
        {
            // The suite runs the tests without RAPIDATA_CLIENT_ID/SECRET and with an empty HOME.
            Assert.IsNull(Environment.GetEnvironmentVariable("RAPIDATA_CLIENT_ID"));
            var e = Assert.Throws<RaptokenException>(() => RaptokenClient.FromEnvironment());
            Assert.AreEqual(RaptokenStatus.NoCredentials, e.Status);
            StringAssert.Contains("RAPIDATA_CLIENT_ID", e.Message);

            using (var options = new RaptokenOptions().WithCredentialsFile("/nonexistent/credentials.json"))
                Assert.AreEqual(RaptokenStatus.NoCredentials,
                    Assert.Throws<RaptokenException>(() => new RaptokenClient(options)).Status);
        }

        [Test]
        public void BadIssuerIsAnInvalidArgument()
        {
            using (var options = new RaptokenOptions())
            {
                foreach (var issuer in new[] { "http://auth.example.com", "ftp://auth.example.com", "not a url" })
                {
                    var e = Assert.Throws<RaptokenException>(() => options.WithIssuer(issuer), issuer);
                    Assert.AreEqual(RaptokenStatus.InvalidArgument, e.Status, issuer);
                }
                // The builder stays usable after a rejected value.
                options.WithIssuer("http://127.0.0.1:8080");
            }
        }

        [Test]
        public void BadOptionValuesAreInvalidArguments()
        {
            using (var options = new RaptokenOptions())
            {
                var rejected = new TestDelegate[]
                {
                    () => options.WithClientId(""),
                    () => options.WithClientSecret(""),
                    () => options.WithEnvironment("not a domain"),
                    () => options.WithTokenEndpoint("http://auth.example.com/connect/token"),
                    () => options.WithScope("openid \"quoted\""),
                    () => options.WithConnectTimeout(TimeSpan.Zero),
                    () => options.WithRequestTimeout(TimeSpan.Zero),
                    () => options.WithAuthMethod((AuthMethod)7),
                };
                foreach (var call in rejected)
                    Assert.AreEqual(RaptokenStatus.InvalidArgument, Assert.Throws<RaptokenException>(call).Status);

                Assert.Throws<ArgumentNullException>(() => options.WithIssuer(null));
                Assert.Throws<ArgumentException>(() => options.WithClientId("a\0b"));
                Assert.Throws<ArgumentOutOfRangeException>(() => options.WithConnectTimeout(TimeSpan.FromSeconds(-1)));
                Assert.Throws<ArgumentOutOfRangeException>(() => options.WithExpiryMargin(TimeSpan.FromDays(60)));
            }
        }

        [Test]
        public void IdWithoutSecretIsAnInvalidArgument()
        {
            using (var options = new RaptokenOptions().WithIssuer(TestEnv.Issuer).WithClientId("basic-0"))
                Assert.AreEqual(RaptokenStatus.InvalidArgument,
                    Assert.Throws<RaptokenException>(() => new RaptokenClient(options)).Status);
            Assert.Throws<ArgumentNullException>(() => new RaptokenClient("basic-0", null));
            Assert.Throws<ArgumentNullException>(() => new RaptokenClient((RaptokenOptions)null));
        }

        [Test]
        public void MissingCaFileIsAConfigError()
        {
            string missing = Path.Combine(Path.GetTempPath(), "raptoken-no-such-ca-" + Guid.NewGuid().ToString("N") + ".pem");
            using (var options = TestEnv.Options(TestEnv.Basic()).WithCaFile(missing))
                Assert.AreEqual(RaptokenStatus.Config,
                    Assert.Throws<RaptokenException>(() => new RaptokenClient(options)).Status);
        }
    }
}
