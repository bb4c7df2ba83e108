using System;
using System.IO;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading;
using NUnit.Framework;
using Rapidata.Raptoken;

// Every test is bounded; the suite script bounds the whole run as well.
[assembly: Timeout(60000)]

namespace Rapidata.Raptoken.Tests
{
    /// <summary>A test client of testing/oidc-server: id, secret and auth method.</summary>
    internal sealed class TestCredentials
    {
        internal TestCredentials(string id, string secret, AuthMethod method)
        {
            Id = id;
            Secret = secret;
            Method = method;
        }

        internal string Id { get; }
        internal string Secret { get; }
        internal AuthMethod Method { get; }
    }

    /// <summary>
    /// The real OIDC test server (testing/with-oidc-server.sh exports its addresses), its admin
    /// API, and a supply of client ids: every test takes its own, so server-side counts don't mix.
    /// </summary>
    internal static class TestEnv
    {
        private static int basic, post, shortLived, slow;

        internal static string Issuer => Require("RAPTOKEN_TEST_ISSUER");
        internal static string TokenEndpoint => Require("RAPTOKEN_TEST_TOKEN_ENDPOINT");
        internal static string CaFile => Require("RAPTOKEN_TEST_CA_FILE");
        internal static string WrongCaFile => Require("RAPTOKEN_TEST_WRONG_CA_FILE");
        internal static string Admin => Require("RAPTOKEN_TEST_ADMIN");

        /// <summary>The API behind an RSA front (see testing/rsa-front.mjs) and the CA bundle for it.</summary>
        internal static string FrontApi => Require("RAPTOKEN_CS_FRONT_API");
        internal static string FrontCaFile => Require("RAPTOKEN_CS_FRONT_CA_FILE");

        internal static TestCredentials Basic() => Next("basic", ref basic, 64, AuthMethod.ClientSecretBasic);
        internal static TestCredentials Post() => Next("post", ref post, 64, AuthMethod.ClientSecretPost);
        /// <summary>Clients whose tokens live 3 seconds.</summary>
        internal static TestCredentials Short() => Next("short", ref shortLived, 64, AuthMethod.ClientSecretBasic);
        /// <summary>Clients whose token responses wait for the admin delay.</summary>
        internal static TestCredentials Slow() => Next("slow", ref slow, 16, AuthMethod.ClientSecretBasic);

        internal static RaptokenOptions Options(TestCredentials c) =>
            new RaptokenOptions()
                .WithIssuer(Issuer)
                .WithCaFile(CaFile)
                .WithClientId(c.Id)
                .WithClientSecret(c.Secret)
                .WithAuthMethod(c.Method);

        internal static RaptokenClient Client(TestCredentials c)
        {
            using (var options = Options(c)) return new RaptokenClient(options);
        }

        /// <summary>How many token requests the server has seen from this client id.</summary>
        internal static int TokenRequests(string clientId)
        {
            string json = AdminCall("GET", "/stats?client_id=" + Uri.EscapeDataString(clientId));
            var m = Regex.Match(json, "\"token_requests\"\\s*:\\s*(\\d+)");
            Assert.IsTrue(m.Success, "unexpected /stats answer: " + json);
            return int.Parse(m.Groups[1].Value);
        }

        /// <summary>Every token issued so far to the client stops working at the API.</summary>
        internal static void Revoke(string clientId) => AdminCall("POST", "/revoke?client_id=" + Uri.EscapeDataString(clientId));

        /// <summary>A key file testing/with-jwt-clients.sh made: RSA, EC, WRONG, LOOSE or MALFORMED.</summary>
        internal static string JwtKey(string which) => Require("RAPTOKEN_TEST_JWT_" + which + "_KEY");

        /// <summary>What the token endpoint last received from this client, as JSON (GET /requests).</summary>
        internal static string LastRequest(string clientId) => AdminCall("GET", "/requests?n=1&client_id=" + Uri.EscapeDataString(clientId));

        /// <summary>How long slow-* token responses are held back.</summary>
        internal static void SetSlowDelay(int ms) => AdminCall("POST", "/delay?ms=" + ms);

        /// <summary>Writes a file only its owner can read or write, whatever the umask (the
        /// library rejects credentials and token files others can write).</summary>
        internal static void WritePrivateFile(string path, string content)
        {
            using (File.Create(path)) { }
            Chmod(path, "600");
            File.WriteAllText(path, content);
        }

        /// <summary>chmod with an octal mode such as "600".</summary>
        internal static void Chmod(string path, string octalMode)
        {
            if (chmod(path, Convert.ToUInt32(octalMode, 8)) != 0) Assert.Fail("chmod " + octalMode + " " + path + " failed");
        }

        /// <summary>A new empty directory under the temp directory; delete it when done.</summary>
        internal static string TempDir()
        {
            string dir = Path.Combine(Path.GetTempPath(), "raptoken-cs-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            return dir;
        }

        /// <summary>A loopback port nothing listens on (it was free a moment ago).</summary>
        internal static int ClosedPort()
        {
            var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int chmod(string path, uint mode);

        internal static string AdminCall(string method, string pathAndQuery)
        {
            using (var web = new WebClient())
            {
                return method == "GET"
                    ? web.DownloadString(Admin + pathAndQuery)
                    : web.UploadString(Admin + pathAndQuery, method, "");
            }
        }

        private static TestCredentials Next(string prefix, ref int counter, int limit, AuthMethod method)
        {
            int n = Interlocked.Increment(ref counter) - 1;
            if (n >= limit) Assert.Fail("out of " + prefix + "-N test clients; the server has " + limit);
            return new TestCredentials(prefix + "-" + n, "secret-" + prefix + "-" + n, method);
        }

        private static string Require(string name)
        {
            string v = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(v)) Assert.Fail(name + " is not set: run the tests through scripts/test.d/50-csharp.sh");
            return v;
        }
    }
}
