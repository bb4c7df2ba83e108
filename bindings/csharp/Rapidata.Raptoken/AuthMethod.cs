namespace Rapidata.Raptoken
{
    /// <summary>How the client authenticates to the token endpoint (RapidataAuthMethod).</summary>
    public enum AuthMethod
    {
        /// <summary>HTTP Basic, id and secret form-urlencoded first (RFC 6749 §2.3.1). The default.</summary>
        ClientSecretBasic = 0,
        /// <summary>client_id and client_secret in the request body.</summary>
        ClientSecretPost = 1,
    }
}
