using System;
using System.Globalization;
using System.IO;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>Tokens shared between processes: the per-host shared cache and the token file.</summary>
    [TestFixture]
    public class SharingTests
    {
        [Test]
        public void FleetCacheSharesOneRequestThroughRedis()
        {
            // testing/with-redis.sh exports RAPTOKEN_TEST_REDIS_URL; two clients stand for two pods.
            string url = Environment.GetEnvironmentVariable("RAPTOKEN_TEST_REDIS_URL");
            if (string.IsNullOrEmpty(url)) Assert.Ignore("no Redis: run under testing/with-redis.sh");
            var c = TestEnv.Basic();
            string first, second;
            using (var o = TestEnv.Options(c).WithSharedCacheUrl(url))
            using (var a = new RaptokenClient(o))
            using (var b = new RaptokenClient(o))
            {
                first = a.GetToken();
                second = b.GetToken();
                Assert.AreEqual(0, b.Stats().TokenRequests, "the second client sent no request");
            }
            TokenAssert.Same(first, second);
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
            // Redis unreachable: a token all the same, fetched directly.
            using (var o = TestEnv.Options(c).WithSharedCacheUrl("redis://127.0.0.1:1"))
            using (var down = new RaptokenClient(o))
                Assert.IsNotEmpty(down.GetToken());
            using (var o = new RaptokenOptions())
                Assert.AreEqual(RaptokenStatus.InvalidArgument, Assert.Throws<RaptokenException>(() => o.WithSharedCacheUrl("http://127.0.0.1:6379")).Status);
        }

        [Test]
        public void SharedCacheLetsASecondClientReuseTheToken()
        {
            var c = TestEnv.Basic();
            string baseDir = TestEnv.TempDir();
            try
            {
                string dir = Path.Combine(baseDir, "cache"); // created by the library, mode 0700
                Func<RaptokenClient> shared = () =>
                {
                    using (var o = TestEnv.Options(c).WithSharedCache(false).WithSharedCacheDir(dir)) // the last call wins
                        return new RaptokenClient(o);
                };
                string first, second;
                // Two clients stand for two processes: the second finds the first one's token.
                using (var a = shared()) first = a.GetToken();
                using (var b = shared())
                {
                    second = b.GetToken();
                    Assert.AreEqual(0, b.Stats().TokenRequests, "the second client sent no request");
                }
                TokenAssert.Same(first, second);
                Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
                Assert.IsTrue(Directory.Exists(dir));

                using (var o = TestEnv.Options(c).WithSharedCacheDir(dir).WithSharedCache(false))
                using (var off = new RaptokenClient(o))
                    TokenAssert.Different(first, off.GetToken(), "with the shared cache off");
                Assert.AreEqual(2, TestEnv.TokenRequests(c.Id));
            }
            finally
            {
                Directory.Delete(baseDir, true);
            }
        }

        [Test]
        public void TokenFileSuppliesTheTokenWithoutCredentials()
        {
            var c = TestEnv.Basic();
            string dir = TestEnv.TempDir();
            try
            {
                string token;
                using (var client = TestEnv.Client(c)) token = client.GetToken();
                string file = Path.Combine(dir, "token.json");
                long expiresAt = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
                TestEnv.WritePrivateFile(file, "{\"access_token\": \"" + token + "\", \"token_type\": \"Bearer\", \"expires_at\": "
                                               + expiresAt.ToString(CultureInfo.InvariantCulture) + "}");
                using (var o = new RaptokenOptions().WithTokenFile(file))
                using (var fromFile = new RaptokenClient(o))
                {
                    var info = fromFile.GetTokenInfo(TimeSpan.Zero);
                    TokenAssert.Same(token, info.Value);
                    // The library counts the file's remaining lifetime from when it read it: up to 1 s early.
                    Assert.That(info.ExpiresAt.ToUnixTimeSeconds(), Is.InRange(expiresAt - 1, expiresAt));
                    TokenAssert.Same(token, fromFile.GetToken());
                }
                Assert.AreEqual(1, TestEnv.TokenRequests(c.Id), "the token file sends no request");
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Test]
        public void MissingOrExpiredTokenFileIsAConfigError()
        {
            string dir = TestEnv.TempDir();
            try
            {
                string expired = Path.Combine(dir, "expired.json");
                TestEnv.WritePrivateFile(expired, "{\"access_token\": \"x\", \"token_type\": \"Bearer\", \"expires_at\": 1000}");
                // Fresh, but others may write it: anyone could plant a token.
                string writable = Path.Combine(dir, "group-writable.json");
                TestEnv.WritePrivateFile(writable, "{\"access_token\": \"x\", \"token_type\": \"Bearer\", \"expires_at\": "
                    + DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + "}");
                TestEnv.Chmod(writable, "620");
                foreach (var file in new[] { Path.Combine(dir, "missing.json"), expired, writable })
                {
                    using (var o = new RaptokenOptions().WithTokenFile(file))
                    using (var client = new RaptokenClient(o))
                    {
                        var e = Assert.Throws<RaptokenException>(() => client.GetToken());
                        Assert.AreEqual(RaptokenStatus.Config, e.Status, file);
                        StringAssert.Contains(file, e.Message);
                    }
                }
                using (var o = new RaptokenOptions())
                {
                    Assert.AreEqual(RaptokenStatus.InvalidArgument, Assert.Throws<RaptokenException>(() => o.WithTokenFile("")).Status);
                    Assert.AreEqual(RaptokenStatus.InvalidArgument, Assert.Throws<RaptokenException>(() => o.WithSharedCacheDir("")).Status);
                }
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }
    }
}
