using System;
using System.Globalization;
using System.Net.Http;
using Rapidata.Raptoken;

namespace RaptokenExample
{
    /// <summary>
    /// GETs $RAPTOKEN_EXAMPLE_API with a Rapidata bearer token. Credentials come from
    /// RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET (or ~/.config/rapidata/credentials.json);
    /// RAPIDATA_ISSUER and RAPIDATA_CA_FILE point it at another authorization server.
    /// </summary>
    public static class Program
    {
        public static int Main()
        {
            string api = Environment.GetEnvironmentVariable("RAPTOKEN_EXAMPLE_API");
            if (string.IsNullOrEmpty(api))
            {
                Console.Error.WriteLine("set RAPTOKEN_EXAMPLE_API to the URL to GET");
                return 2;
            }
            try
            {
                using (var tokens = RaptokenClient.FromEnvironment())
                using (var http = new HttpClient(new BearerTokenHandler(tokens, CustomCa.Handler(
                           Environment.GetEnvironmentVariable("RAPIDATA_CA_FILE")))))
                {
                    using (var response = http.GetAsync(api).GetAwaiter().GetResult())
                        Console.WriteLine("GET " + api + ": " + (int)response.StatusCode + " " + response.ReasonPhrase);
                    // The token the handler used, with its expiry (no new request). Never print a
                    // whole token: it is a secret.
                    RaptokenToken token = tokens.GetTokenInfo(TimeSpan.Zero);
                    Console.WriteLine("token: " + token.Value.Substring(0, Math.Min(8, token.Value.Length)) + "...");
                    Console.WriteLine("expires: " + token.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
                    return 0;
                }
            }
            catch (RaptokenException e)
            {
                // e.g. NoCredentials, or OAuth with OAuthCode "invalid_client" for stale credentials
                Console.Error.WriteLine("raptoken: " + e.Status + ": " + e.Message);
                return 1;
            }
            catch (HttpRequestException e)
            {
                Console.Error.WriteLine("GET " + api + " failed: " + (e.InnerException ?? e).Message);
                return 1;
            }
        }
    }
}
