using System;
using System.Diagnostics;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// Gets and keeps an OAuth 2.0 client-credentials token for the Rapidata API. All token logic
    /// (caching, refresh-ahead, one request for many callers, retries) lives in libraptoken; this
    /// class only marshals. Thread-safe: share one instance for the life of the program.
    /// After <see cref="Dispose"/> every method throws <see cref="ObjectDisposedException"/>.
    /// The async methods are in RaptokenClient.Async.cs.
    /// </summary>
    public sealed partial class RaptokenClient : IDisposable
    {
        private readonly ClientHandle handle;

        // The one piece of managed state: the last token as a managed string, kept until the
        // instant the library says it would renew (RapidataTokenInfo.refresh_at_unix_ms). Until
        // then the library returns this same token, so GetToken skips the P/Invoke, the buffer
        // and the UTF-8 decoding. Invalidate drops it. Stored as an immutable object, swapped
        // atomically; the deadline is on Stopwatch's 64-bit monotonic timestamp (see Remember).
        // Past its deadline the memo stays, as the last token seen, and answers nothing.
        private Memo memo;

        // Bumped after each Invalidate: a memo made from a fetch that started before an
        // invalidation may hold the rejected token and is never served.
        private long generation;

        // Bytes to offer for the token and its NUL: the last token's size (tokens of one client
        // rarely change length; if one grows, BUFFER_TOO_SMALL says by how much).
        private int bufferSize = 1024;

        // Warm GetToken calls the memo answered: the library never sees them, Stats adds them.
        private readonly HitCounter memoHits = new HitCounter();

        /// <summary>A client configured by <paramref name="options"/> (which may be disposed afterwards).</summary>
        public RaptokenClient(RaptokenOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            handle = options.CreateClient();
        }

        /// <summary>A client with these credentials (they win over RAPIDATA_TOKEN_FILE); other
        /// settings from RAPIDATA_* variables and defaults.</summary>
        public RaptokenClient(string clientId, string clientSecret)
        {
            if (clientId == null) throw new ArgumentNullException(nameof(clientId));
            if (clientSecret == null) throw new ArgumentNullException(nameof(clientSecret));
            handle = Create(clientId, clientSecret);
        }

        private RaptokenClient(ClientHandle handle)
        {
            this.handle = handle;
        }

        /// <summary>
        /// A client from the credentials chain: RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET, then
        /// ~/.config/rapidata/credentials.json (written by Rapidata's Python SDK). Other settings
        /// from RAPIDATA_* variables (RAPIDATA_ISSUER, RAPIDATA_CA_FILE, ...) and defaults. If
        /// RAPIDATA_TOKEN_FILE names a token file, the token is read from it instead.
        /// No network I/O happens here: the first <see cref="GetToken"/> fetches.
        /// </summary>
        public static RaptokenClient FromEnvironment() => new RaptokenClient(Create(null, null));

        /// <summary>The native library's version, e.g. "0.1.0".</summary>
        public static string NativeVersion
        {
            get
            {
                NativeLibraryCheck.EnsureLoaded();
                return Utf8.FromNative(NativeMethods.rapidata_version());
            }
        }

        /// <summary>
        /// The current access token, fetched first if none is usable (this call then blocks for
        /// at most the request timeout; concurrent callers share one request). Warm calls are
        /// served from the memo without a native call.
        /// </summary>
        public string GetToken()
        {
            ThrowIfDisposed();
            var m = Volatile.Read(ref memo);
            if (m != null && m.Serves(Interlocked.Read(ref generation), 0))
            {
                memoHits.Add();
                return m.Token;
            }
            return Fetch(0).Value;
        }

        /// <summary>
        /// A token that stays valid at least <paramref name="minValid"/> more (e.g. before a long
        /// upload), with its expiry. If no token of the server's lifetime could last that long,
        /// the freshest one is returned. Always asks the library (never the memo).
        /// </summary>
        public RaptokenToken GetTokenInfo(TimeSpan minValid)
        {
            uint ms = RaptokenOptions.Milliseconds(minValid, nameof(minValid));
            ThrowIfDisposed();
            return Fetch(ms);
        }

        /// <summary>
        /// Reports that <paramref name="token"/> was rejected (an API answered 401). The library
        /// drops it only if it is still the cached token, so N callers reporting the same stale
        /// token cause one renewal. Returns whether it was dropped.
        /// </summary>
        public bool Invalidate(string token)
        {
            if (token == null) throw new ArgumentNullException(nameof(token));
            ThrowIfDisposed();
            ThrowIfInLogCallback();
            byte[] bytes = Utf8.ToNative(token, nameof(token));
            try
            {
                bool dropped;
                ErrorHandle error;
                var status = NativeMethods.rapidata_invalidate_token(handle, bytes, out dropped, out error);
                RaptokenException.Check(status, error);
                return dropped;
            }
            finally
            {
                Utf8.Wipe(bytes);
                // After the native call: any fetch that could still have returned this token
                // started before the bump, so its memo is ignored.
                Interlocked.Increment(ref generation);
                Volatile.Write(ref memo, null);
            }
        }

        /// <summary>
        /// Ends the back-off window that follows a failed fetch: the next call that needs a token
        /// sends a request at once instead of throwing the last error (use it once the cause is
        /// fixed). A server's Retry-After still holds.
        /// </summary>
        public void RetryNow()
        {
            ThrowIfDisposed();
            ErrorHandle error;
            var status = NativeMethods.rapidata_retry_now(handle, out error);
            RaptokenException.Check(status, error);
        }

        /// <summary>
        /// A snapshot of the client's counters: cache hits, token and discovery requests, fetches
        /// that succeeded or failed, retries, throttling, and the last error and success. Cheap
        /// (reading does not slow callers getting tokens); thread-safe.
        /// </summary>
        public RaptokenStats Stats()
        {
            ThrowIfDisposed();
            ThrowIfInLogCallback();
            NativeMethods.Stats s;
            var status = NativeMethods.rapidata_client_stats(handle, out s);
            RaptokenException.Check(status, null);
            return new RaptokenStats(s, memoHits.Sum());
        }

        /// <summary>
        /// Frees the native client (wiping its token and secret). Calls running on other threads
        /// finish first; later calls throw <see cref="ObjectDisposedException"/>. Idempotent.
        /// </summary>
        public void Dispose()
        {
            Volatile.Write(ref memo, null);
            handle.Dispose();
        }

        private static ClientHandle Create(string clientId, string clientSecret)
        {
            NativeLibraryCheck.EnsureLoaded();
            byte[] id = Utf8.ToNative(clientId, nameof(clientId));
            byte[] secret = Utf8.ToNative(clientSecret, nameof(clientSecret));
            try
            {
                ClientHandle client;
                ErrorHandle error;
                var status = NativeMethods.rapidata_client_new(id, secret, out client, out error);
                RaptokenException.Check(status, error);
                return client;
            }
            finally
            {
                Utf8.Wipe(secret);
            }
        }

        private RaptokenToken Fetch(uint minValidMs)
        {
            ThrowIfInLogCallback();
            long gen = Interlocked.Read(ref generation);
            int size = Volatile.Read(ref bufferSize);
            string token;
            NativeMethods.TokenInfo info;
            for (int attempt = 0; ; attempt++)
            {
                var buf = new byte[size];
                try
                {
                    UIntPtr len;
                    ErrorHandle error;
                    var status = NativeMethods.rapidata_get_token_info(
                        handle, minValidMs, buf, (UIntPtr)buf.Length, out len, out info, out error);
                    // The token may be renewed (and change length) between two calls: retry a
                    // few times with the size the library asked for.
                    if (status == RaptokenStatus.BufferTooSmall && attempt < 3)
                    {
                        error.Dispose();
                        size = checked((int)len.ToUInt64() + 1);
                        Volatile.Write(ref bufferSize, size);
                        continue;
                    }
                    RaptokenException.Check(status, error);
                    int n = checked((int)len.ToUInt64());
                    token = Encoding.UTF8.GetString(buf, 0, n);
                    if (n + 1 != size) Volatile.Write(ref bufferSize, n + 1);
                    break;
                }
                finally
                {
                    Utf8.Wipe(buf);
                }
            }

            var result = new RaptokenToken(
                token,
                DateTimeOffset.FromUnixTimeMilliseconds(info.ExpiresAtUnixMs),
                DateTimeOffset.FromUnixTimeMilliseconds(info.RefreshAtUnixMs),
                TimeSpan.FromMilliseconds(info.LifetimeMs));
            Remember(result, gen);
            return result;
        }

        // Memoizes the token until its refresh instant, less 16 ms of slack for the clock
        // conversions, so the memo never outlives the library's own promise. Keeps the newer
        // of two memos when fetches race (e.g. a GetTokenInfo that forced an early renewal
        // against a GetToken that still saw the previous token). A token already past its
        // refresh instant (served while another caller renews) is kept with a deadline in the
        // past: it answers nothing, and spares a new memo each time that token comes back.
        private void Remember(RaptokenToken token, long gen)
        {
            const long Resolution = 16;
            var cur0 = Volatile.Read(ref memo);
            if (cur0 != null && cur0.Generation == gen && cur0.Token == token.Value && cur0.Info.RefreshAt == token.RefreshAt)
                return; // nothing new (e.g. served while another caller renews)
            long remainingMs = token.RefreshAt.ToUnixTimeMilliseconds() - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - Resolution;
            // A 64-bit monotonic clock: Environment.TickCount wraps after 24.9 days, and a client
            // idle that long could have been served an expired memo.
            long offset = Math.Max(-1, Math.Min(remainingMs, int.MaxValue));
            var m = new Memo(token, Stopwatch.GetTimestamp() + offset * Memo.TicksPerMs, gen);
            while (true)
            {
                var cur = Volatile.Read(ref memo);
                if (cur != null && (cur.Generation > m.Generation ||
                                    (cur.Generation == m.Generation && cur.Deadline >= m.Deadline)))
                    return;
                if (Interlocked.CompareExchange(ref memo, m, cur) == cur) return;
            }
        }

        private void ThrowIfDisposed()
        {
            if (handle.IsClosed) throw new ObjectDisposedException(nameof(RaptokenClient));
        }

        // The C contract: a log callback must not call back into the client (its thread is inside
        // it, and may hold the lock the call would wait for). Refused for every client: the
        // binding cannot tell which one is logging.
        private static void ThrowIfInLogCallback()
        {
            if (LogSink.InCallback)
                throw new InvalidOperationException("a raptoken log callback must not call a RaptokenClient: its thread is inside the library");
        }

        private sealed class Memo
        {
            internal readonly string Token;
            internal static readonly long TicksPerMs = Math.Max(1, Stopwatch.Frequency / 1000);
            internal readonly long Deadline;    // Stopwatch.GetTimestamp() ticks
            internal readonly long Generation;
            internal readonly RaptokenToken Info;
            // Completed tasks, made once per token: a warm GetTokenAsync/GetTokenInfoAsync
            // returns one of them and allocates nothing.
            internal readonly Task<string> TokenTask;
            internal readonly Task<RaptokenToken> InfoTask;

            internal Memo(RaptokenToken info, long deadline, long generation)
            {
                Token = info.Value;
                Deadline = deadline;
                Generation = generation;
                Info = info;
                TokenTask = Task.FromResult(info.Value);
                InfoTask = Task.FromResult(info);
            }

            /// <summary>Whether the library would return this token, with more than
            /// <paramref name="minValidMs"/> to spare before the refresh instant.</summary>
            internal bool Serves(long currentGeneration, uint minValidMs) =>
                Generation == currentGeneration && Deadline - Stopwatch.GetTimestamp() > minValidMs * TicksPerMs;
        }
    }
}
