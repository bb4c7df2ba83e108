using System;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// A bearer token and the facts about it (RapidataTokenInfo). Named so that it collides with
    /// nothing common: <c>Azure.Core.AccessToken</c> lives in the same files as this library in
    /// most programs. <see cref="ToString"/> never shows the token itself.
    /// </summary>
    public sealed class RaptokenToken
    {
        internal RaptokenToken(string value, DateTimeOffset expiresAt, DateTimeOffset refreshAt, TimeSpan lifetime)
        {
            Value = value;
            ExpiresAt = expiresAt;
            RefreshAt = refreshAt;
            Lifetime = lifetime;
        }

        /// <summary>The token, for an Authorization: Bearer header. A secret: don't log it.</summary>
        public string Value { get; }

        /// <summary>When the server says it expires (counted from when the request was sent).</summary>
        public DateTimeOffset ExpiresAt { get; }

        /// <summary>From this instant on, the next call renews the token.</summary>
        public DateTimeOffset RefreshAt { get; }

        /// <summary>The lifetime the server granted.</summary>
        public TimeSpan Lifetime { get; }

        /// <summary>Expiry and length only; the token is redacted.</summary>
        public override string ToString() =>
            "RaptokenToken(expires " + ExpiresAt.ToString("o") + ", " + (Value?.Length ?? 0) + " characters, value redacted)";
    }
}
