using System;

namespace Rapidata.Raptoken
{
    // The fields, their docs and ToString are generated into RaptokenStats.g.cs.
    public readonly partial struct RaptokenStats
    {
        internal RaptokenStats(NativeMethods.Stats s, long memoHits) : this(WithMemoHits(s, memoHits))
        {
        }

        // The binding's memo answers warm calls without the library: each is a cache hit.
        private static NativeMethods.Stats WithMemoHits(NativeMethods.Stats s, long memoHits)
        {
            s.CacheHits += (ulong)memoHits;
            return s;
        }

        private static DateTimeOffset? Instant(long unixMs) =>
            unixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs) : (DateTimeOffset?)null;
    }
}
