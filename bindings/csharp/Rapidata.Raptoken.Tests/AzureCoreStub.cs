using System;
using System.Threading;
using System.Threading.Tasks;

// A stand-in for the three Azure.Core types a TokenCredential adapter touches, with Azure.Core's
// names and signatures, so that the adapter in bindings/csharp/README.md compiles and runs here
// without the Azure SDK (the package has no dependency on it, and CI has no NuGet feed for it).
namespace Azure.Core
{
    public struct AccessToken
    {
        public AccessToken(string accessToken, DateTimeOffset expiresOn)
        {
            Token = accessToken;
            ExpiresOn = expiresOn;
        }

        public string Token { get; }
        public DateTimeOffset ExpiresOn { get; }
    }

    public readonly struct TokenRequestContext
    {
        public TokenRequestContext(string[] scopes, string parentRequestId = null)
        {
            Scopes = scopes;
            ParentRequestId = parentRequestId;
        }

        public string[] Scopes { get; }
        public string ParentRequestId { get; }
    }

    public abstract class TokenCredential
    {
        public abstract ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken);
        public abstract AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken);
    }
}
