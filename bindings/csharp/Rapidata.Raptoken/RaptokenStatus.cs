namespace Rapidata.Raptoken
{
    /// <summary>
    /// RapidataStatus from raptoken.h, value for value (a test checks each name against the
    /// library's rapidata_status_name). Values never change meaning; a newer library may return
    /// values this enum does not name.
    /// </summary>
    public enum RaptokenStatus
    {
        /// <summary>Success.</summary>
        Ok = 0,
        /// <summary>A missing, malformed or unusable argument.</summary>
        InvalidArgument = 1,
        /// <summary>No client id/secret in arguments, environment or credentials file.</summary>
        NoCredentials = 2,
        /// <summary>Internal to the binding: it retries with a larger buffer.</summary>
        BufferTooSmall = 3,
        /// <summary>Broken configuration: credentials file, CA file, issuer, discovery mismatch.</summary>
        Config = 4,
        /// <summary>Network failure: DNS, connect, TLS, reset.</summary>
        Transport = 5,
        /// <summary>A timeout or deadline passed.</summary>
        Timeout = 6,
        /// <summary>An HTTP error status without an OAuth error document.</summary>
        Http = 7,
        /// <summary>An RFC 6749 error answer; see <see cref="RaptokenException.OAuthCode"/>.</summary>
        OAuth = 8,
        /// <summary>The server's answer is not a valid token response or discovery document.</summary>
        Protocol = 9,
        /// <summary>A bug inside raptoken was caught at the boundary; the process is still fine.</summary>
        Panic = 10,
    }
}
