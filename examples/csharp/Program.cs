using System;
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
                    // Never print a whole token: it is a secret.
                    string token = tokens.GetToken();
                    Console.WriteLine("token: " + token.Substring(0, Math.Min(8, token.Length)) + "...");
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
