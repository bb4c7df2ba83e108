using System;
using System.IO;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>
    /// private_key_jwt and token request parameters against the test server, with the clients
    /// testing/with-jwt-clients.sh registered: jwt-ec, jwt-rsa, jwt-wrong, jwt-params.
    /// </summary>
    [TestFixture]
    public class KeyTests
    {
        private static RaptokenOptions JwtOptions(string clientId) =>
            new RaptokenOptions().WithIssuer(TestEnv.Issuer).WithCaFile(TestEnv.CaFile).WithClientId(clientId);

        private static string TokenWith(RaptokenOptions options)
        {
            using (options)
            using (var client = new RaptokenClient(options))
                return client.GetToken();
        }

        private static RaptokenException Fails(TestDelegate action) => Assert.Throws<RaptokenException>(action);

        [Test]
        public void EcKeyFileAndRsaKeyText()
        {
            Assert.IsNotEmpty(TokenWith(JwtOptions("jwt-ec").WithClientKeyFile(TestEnv.JwtKey("EC"))));
            string pem = File.ReadAllText(TestEnv.JwtKey("RSA"));
            var rsa = JwtOptions("jwt-rsa").WithClientKey(pem).WithClientKeyId("rsa-1").WithClientKeyAlgorithm(SigningAlgorithm.PS256);
            Assert.IsNotEmpty(TokenWith(rsa));
            string seen = TestEnv.LastRequest("jwt-rsa");
            StringAssert.Contains("\"auth\":\"private_key_jwt\"", seen);
            StringAssert.Contains("\"alg\":\"PS256\",\"typ\":\"JWT\",\"kid\":\"rsa-1\"", seen);
            StringAssert.DoesNotContain("client_secret", seen);
        }

        [Test]
        public void AKeyTheServerDoesNotKnowIsInvalidClient()
        {
            var e = Fails(() => TokenWith(JwtOptions("jwt-wrong").WithClientKeyFile(TestEnv.JwtKey("WRONG"))));
            Assert.AreEqual(RaptokenStatus.OAuth, e.Status);
            Assert.AreEqual("invalid_client", e.OAuthCode);
            Assert.AreEqual(401, e.HttpStatus);
            StringAssert.Contains("thumbprint", e.Message);
        }

        [Test]
        public void KeyFileProblemsAndBadValuesAreClearErrors()
        {
            foreach (var c in new[] { new[] { "LOOSE", "chmod 600" }, new[] { "MALFORMED", "no END line" } })
            {
                string path = TestEnv.JwtKey(c[0]);
                var e = Fails(() => TokenWith(JwtOptions("jwt-ec").WithClientKeyFile(path)));
                Assert.AreEqual(RaptokenStatus.Config, e.Status, c[0]);
                StringAssert.Contains(path, e.Message);
                StringAssert.Contains(c[1], e.Message);
            }
            using (var options = new RaptokenOptions())
            {
                var bad = Fails(() => options.WithClientKey("-----BEGIN PRIVATE KEY-----\nbm8ga2V5\n"));
                Assert.AreEqual(RaptokenStatus.InvalidArgument, bad.Status);
                StringAssert.DoesNotContain("bm8ga2V5", bad.ToString());
                Assert.AreEqual(RaptokenStatus.InvalidArgument, Fails(() => options.AddExtraParam("grant_type", "x")).Status);
            }
            var rs256 = Fails(() => TokenWith(JwtOptions("jwt-ec").WithClientKeyFile(TestEnv.JwtKey("EC")).WithClientKeyAlgorithm(SigningAlgorithm.RS256)));
            Assert.AreEqual(RaptokenStatus.Config, rs256.Status);
        }

        [Test]
        public void AudienceResourceAndExtraParamsReachTheServer()
        {
            string[] resources = Environment.GetEnvironmentVariable("RAPTOKEN_TEST_RESOURCES").Split(' ');
            Assert.GreaterOrEqual(resources.Length, 2);
            var options = JwtOptions("jwt-params").WithClientKeyFile(TestEnv.JwtKey("EC"))
                .WithAudience("https://aud.example.test/").AddResource(resources[0]).AddExtraParam("organization", "R&D team");
            Assert.IsNotEmpty(TokenWith(options));
            string seen = TestEnv.LastRequest("jwt-params");
            StringAssert.Contains("\"resource\":[\"" + resources[0] + "\"]", seen);
            StringAssert.Contains("\"audience\":[\"https://aud.example.test/\"]", seen);
            StringAssert.Contains("\"organization\":[\"R&D team\"]", seen);

            // Two resources are both sent; this server takes one per request (invalid_target).
            var two = JwtOptions("jwt-params").WithClientKeyFile(TestEnv.JwtKey("EC")).AddResource(resources[0]).AddResource(resources[1]);
            Assert.AreEqual("invalid_target", Fails(() => TokenWith(two)).OAuthCode);
            StringAssert.Contains("\"resource\":[\"" + resources[0] + "\",\"" + resources[1] + "\"]", TestEnv.LastRequest("jwt-params"));
        }
    }
}
