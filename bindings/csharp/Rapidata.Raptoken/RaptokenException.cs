using System;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// A failed raptoken call: the library's status, its message (which never contains a secret
    /// or a token) and, for answers from the authorization server, the OAuth details.
    /// </summary>
    public sealed class RaptokenException : Exception
    {
        internal RaptokenException(RaptokenStatus status, string message, string oauthCode,
            string oauthDescription, int httpStatus, DateTimeOffset? retryAfter)
            : base(message)
        {
            Status = status;
            OAuthCode = oauthCode;
            OAuthDescription = oauthDescription;
            HttpStatus = httpStatus;
            RetryAfter = retryAfter;
        }

        /// <summary>What kind of failure this is.</summary>
        public RaptokenStatus Status { get; }

        /// <summary>The RFC 6749 error code the server sent (e.g. "invalid_client"), or null.</summary>
        public string OAuthCode { get; }

        /// <summary>The server's error_description (scrubbed, truncated), or null.</summary>
        public string OAuthDescription { get; }

        /// <summary>The HTTP status of the response behind the failure; 0 if there was none.</summary>
        public int HttpStatus { get; }

        /// <summary>When the server asked to be left alone until (Retry-After), or null.</summary>
        public DateTimeOffset? RetryAfter { get; }

        /// <summary>
        /// The one place a native failure becomes an exception: does nothing for OK, otherwise
        /// reads the error object, frees it, and throws. Always disposes <paramref name="error"/>.
        /// </summary>
        internal static void Check(RaptokenStatus status, ErrorHandle error)
        {
            try
            {
                if (status != RaptokenStatus.Ok) throw FromNative(status, error);
            }
            finally
            {
                error?.Dispose();
            }
        }

        /// <summary>The exception for a failed call; does not free <paramref name="error"/>.</summary>
        internal static RaptokenException FromNative(RaptokenStatus status, ErrorHandle error)
        {
            if (error == null || error.IsInvalid)
            {
                // Calls without an out_error (rapidata_options_new) report only a status.
                var name = Utf8.FromNative(NativeMethods.rapidata_status_name((uint)status));
                return new RaptokenException(status, "raptoken call failed: " + name, null, null, 0, null);
            }
            long retryMs = NativeMethods.rapidata_error_retry_after_unix_ms(error);
            return new RaptokenException(
                status,
                Utf8.FromNative(NativeMethods.rapidata_error_message(error)),
                Utf8.FromNative(NativeMethods.rapidata_error_oauth_code(error)),
                Utf8.FromNative(NativeMethods.rapidata_error_oauth_description(error)),
                NativeMethods.rapidata_error_http_status(error),
                retryMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(retryMs) : (DateTimeOffset?)null);
        }
    }
}
