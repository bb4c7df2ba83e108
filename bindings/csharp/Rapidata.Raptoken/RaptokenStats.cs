using System;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// A snapshot of a client's counters (RapidataStats), from <see cref="RaptokenClient.Stats"/>.
    /// All counts start at 0 when the client is created.
    /// </summary>
    public readonly struct RaptokenStats
    {
        internal RaptokenStats(NativeMethods.Stats s, long memoHits)
        {
            CacheHits = (long)s.CacheHits + memoHits;
            TokenRequests = (long)s.TokenRequests;
            DiscoveryRequests = (long)s.DiscoveryRequests;
            FetchesOk = (long)s.FetchesOk;
            FetchesFailed = (long)s.FetchesFailed;
            Retries = (long)s.Retries;
            Throttled = (long)s.Throttled;
            KeptServing = (long)s.KeptServing;
            LastError = Instant(s.LastErrorUnixMs);
            LastSuccess = Instant(s.LastSuccessUnixMs);
            ThrottledUntil = Instant(s.ThrottledUntilUnixMs);
            LastErrorStatus = (RaptokenStatus)s.LastErrorStatus;
            LastErrorHttpStatus = (int)s.LastErrorHttpStatus;
        }

        /// <summary>Calls answered from the cache without fetching or waiting for a fetch
        /// (the library's, plus warm <see cref="RaptokenClient.GetToken"/> calls this binding
        /// answered from its memo).</summary>
        public long CacheHits { get; }

        /// <summary>HTTP requests sent to the token endpoint (every attempt, retries included).</summary>
        public long TokenRequests { get; }

        /// <summary>HTTP requests sent for OpenID discovery.</summary>
        public long DiscoveryRequests { get; }

        /// <summary>Fetches that ended with a new token.</summary>
        public long FetchesOk { get; }

        /// <summary>Fetches that ended with an error, after their retries.</summary>
        public long FetchesFailed { get; }

        /// <summary>Attempts that repeated a failed one.</summary>
        public long Retries { get; }

        /// <summary>Fetches refused without a request because the server's Retry-After had not passed.</summary>
        public long Throttled { get; }

        /// <summary>Failed refreshes after which the still-usable current token kept being served.</summary>
        public long KeptServing { get; }

        /// <summary>When the last fetch failed; null if none has.</summary>
        public DateTimeOffset? LastError { get; }

        /// <summary>When the last fetch succeeded; null if none has.</summary>
        public DateTimeOffset? LastSuccess { get; }

        /// <summary>Until when no token request is sent (the server's Retry-After); null if not throttled.</summary>
        public DateTimeOffset? ThrottledUntil { get; }

        /// <summary>The status of the last failed fetch; <see cref="RaptokenStatus.Ok"/> if none has failed.</summary>
        public RaptokenStatus LastErrorStatus { get; }

        /// <summary>The HTTP status behind the last failed fetch; 0 if it had none.</summary>
        public int LastErrorHttpStatus { get; }

        /// <summary>The counters on one line, for logs.</summary>
        public override string ToString() =>
            "RaptokenStats(cache hits " + CacheHits + ", token requests " + TokenRequests +
            ", discovery requests " + DiscoveryRequests + ", fetches ok " + FetchesOk +
            ", failed " + FetchesFailed + ", retries " + Retries + ", throttled " + Throttled +
            ", kept serving " + KeptServing +
            (LastErrorStatus != RaptokenStatus.Ok ? ", last error " + LastErrorStatus + (LastErrorHttpStatus != 0 ? " " + LastErrorHttpStatus : "") : "") +
            ")";

        private static DateTimeOffset? Instant(long unixMs) =>
            unixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs) : (DateTimeOffset?)null;
    }
}
