using System;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// Settings for a <see cref="RaptokenClient"/>, one method per rapidata_options_set_*.
    /// Each method hands its value to the native builder at once, so a bad value throws
    /// <see cref="RaptokenException"/> (InvalidArgument) right there, and the secret is never kept
    /// in managed memory by this class. Anything not set comes from RAPIDATA_* environment
    /// variables, then defaults. Safe to share between threads (calls are serialized); dispose it
    /// once clients are created: they copied what they need.
    /// </summary>
    public sealed class RaptokenOptions : IDisposable
    {
        private readonly OptionsHandle handle;
        private readonly object gate = new object();

        /// <summary>An empty builder.</summary>
        public RaptokenOptions()
        {
            NativeLibraryCheck.EnsureLoaded();
            RaptokenException.Check(NativeMethods.rapidata_options_new(out handle), null);
        }

        /// <summary>The client id (set it together with the secret; neither = credentials chain).</summary>
        public RaptokenOptions WithClientId(string clientId) =>
            SetText(clientId, nameof(clientId), NativeMethods.rapidata_options_set_client_id);

        /// <summary>The client secret. Only the native library keeps a copy (wiped when freed).</summary>
        public RaptokenOptions WithClientSecret(string clientSecret) =>
            SetText(clientSecret, nameof(clientSecret), NativeMethods.rapidata_options_set_client_secret);

        /// <summary>Issuer URL (default https://auth.rapidata.ai): https, or http to loopback.</summary>
        public RaptokenOptions WithIssuer(string issuerUrl) =>
            SetText(issuerUrl, nameof(issuerUrl), NativeMethods.rapidata_options_set_issuer);

        /// <summary>A Rapidata base domain such as "rapidata.ai": issuer https://auth.&lt;domain&gt;.</summary>
        public RaptokenOptions WithEnvironment(string environment) =>
            SetText(environment, nameof(environment), NativeMethods.rapidata_options_set_environment);

        /// <summary>The token endpoint URL; skips OpenID discovery.</summary>
        public RaptokenOptions WithTokenEndpoint(string url) =>
            SetText(url, nameof(url), NativeMethods.rapidata_options_set_token_endpoint);

        /// <summary>Space-separated scopes (default "openid roles email"); "" sends none.</summary>
        public RaptokenOptions WithScope(string scope) =>
            SetText(scope, nameof(scope), NativeMethods.rapidata_options_set_scope);

        /// <summary>A PEM file whose certificates replace the built-in roots (read at client creation).</summary>
        public RaptokenOptions WithCaFile(string pemPath) =>
            SetText(pemPath, nameof(pemPath), NativeMethods.rapidata_options_set_ca_file);

        /// <summary>Where the credentials chain looks for Rapidata's SDK credentials.json.</summary>
        public RaptokenOptions WithCredentialsFile(string path) =>
            SetText(path, nameof(path), NativeMethods.rapidata_options_set_credentials_file);

        /// <summary>How the client authenticates (default <see cref="AuthMethod.ClientSecretBasic"/>).</summary>
        public RaptokenOptions WithAuthMethod(AuthMethod method) =>
            SetNumber((uint)method, NativeMethods.rapidata_options_set_auth_method);

        /// <summary>TCP+TLS connect timeout (default 5 s); must be positive.</summary>
        public RaptokenOptions WithConnectTimeout(TimeSpan timeout) =>
            SetNumber(Milliseconds(timeout, nameof(timeout)), NativeMethods.rapidata_options_set_connect_timeout_ms);

        /// <summary>Total time one HTTP request may take (default 10 s); must be positive.</summary>
        public RaptokenOptions WithRequestTimeout(TimeSpan timeout) =>
            SetNumber(Milliseconds(timeout, nameof(timeout)), NativeMethods.rapidata_options_set_request_timeout_ms);

        /// <summary>A token is not served once less than this remains (default min(30 s, 10 % of lifetime)).</summary>
        public RaptokenOptions WithExpiryMargin(TimeSpan margin) =>
            SetNumber(Milliseconds(margin, nameof(margin)), NativeMethods.rapidata_options_set_expiry_margin_ms);

        /// <summary>Refresh-ahead window (default min(5 min, 50 % of lifetime)); zero turns it off.</summary>
        public RaptokenOptions WithRefreshAhead(TimeSpan window) =>
            SetNumber(Milliseconds(window, nameof(window)), NativeMethods.rapidata_options_set_refresh_ahead_ms);

        /// <summary>
        /// Turns the per-host shared token cache on (in $XDG_CACHE_HOME/raptoken, else
        /// ~/.cache/raptoken) or off (even if RAPIDATA_SHARED_CACHE turns it on): processes of
        /// this user share one token per client through private files. An unusable directory
        /// never fails a call (the client then caches in memory only). The last call of this or
        /// <see cref="WithSharedCacheDir"/> wins.
        /// </summary>
        public RaptokenOptions WithSharedCache(bool enabled)
        {
            lock (gate)
            {
                ThrowIfDisposed();
                ErrorHandle error;
                RaptokenException.Check(NativeMethods.rapidata_options_set_shared_cache(handle, enabled, out error), error);
            }
            return this;
        }

        /// <summary>Turns the shared token cache on in <paramref name="dir"/> (created with mode 0700;
        /// an existing one must be private to this user, or it is not used).</summary>
        public RaptokenOptions WithSharedCacheDir(string dir) =>
            SetText(dir, nameof(dir), NativeMethods.rapidata_options_set_shared_cache_dir);

        /// <summary>
        /// Reads the token from a JSON file another process keeps fresh (Rapidata's token-file
        /// pattern; wins over every other credential source, while the RAPIDATA_TOKEN_FILE
        /// variable yields to explicit credentials). The first
        /// <see cref="RaptokenClient.GetToken"/> reads it and throws Config if it is missing,
        /// malformed, writable by others or expired.
        /// </summary>
        public RaptokenOptions WithTokenFile(string path) =>
            SetText(path, nameof(path), NativeMethods.rapidata_options_set_token_file);

        /// <summary>
        /// How many attempts one fetch makes, 1 (no retries) to 10 (default 3). Only failures
        /// worth repeating are retried: connection errors, resets, timeouts, HTTP 408, 429, 5xx,
        /// and the OAuth errors server_error/temporarily_unavailable; never invalid_client &amp; co.
        /// </summary>
        public RaptokenOptions WithMaxAttempts(int attempts)
        {
            if (attempts < 0) throw new ArgumentOutOfRangeException(nameof(attempts), "must be between 1 and 10");
            return SetNumber((uint)attempts, NativeMethods.rapidata_options_set_max_attempts);
        }

        /// <summary>
        /// The backoff between attempts: a random wait up to <paramref name="initial"/>·2^(n-1),
        /// at most <paramref name="max"/> (full jitter); after a failed refresh while the current
        /// token is still served, the next try comes after 2·initial, doubling up to max.
        /// Defaults 500 ms and 30 s; initial must be positive and max at least initial.
        /// </summary>
        public RaptokenOptions WithRetryBackoff(TimeSpan initial, TimeSpan max)
        {
            uint initialMs = Milliseconds(initial, nameof(initial));
            uint maxMs = Milliseconds(max, nameof(max));
            lock (gate)
            {
                ThrowIfDisposed();
                ErrorHandle error;
                RaptokenException.Check(NativeMethods.rapidata_options_set_retry_backoff_ms(handle, initialMs, maxMs, out error), error);
            }
            return this;
        }

        /// <summary>The longest Retry-After honoured (default 60 s): a server asking for longer is called again after this.</summary>
        public RaptokenOptions WithMaxRetryAfter(TimeSpan max) =>
            SetNumber(Milliseconds(max, nameof(max)), NativeMethods.rapidata_options_set_max_retry_after_ms);

        /// <summary>
        /// The overall deadline of one fetch (default 30 s): discovery, every attempt and the
        /// waits between them. Callers waiting for another thread's fetch wait at most this long
        /// (plus 1 s). Must be positive.
        /// </summary>
        public RaptokenOptions WithDeadline(TimeSpan deadline) =>
            SetNumber(Milliseconds(deadline, nameof(deadline)), NativeMethods.rapidata_options_set_deadline_ms);

        /// <summary>
        /// Which roots TLS trusts (default <see cref="Trust.Builtin"/>, or only the CA file when
        /// one is set). <c>Trust.System</c> with a CA file adds the file to the system roots;
        /// Builtin combined with System or a CA file makes creating the client throw Config.
        /// </summary>
        public RaptokenOptions WithTrust(Trust trust) =>
            SetNumber((uint)trust, NativeMethods.rapidata_options_set_trust);

        /// <summary>
        /// The proxy for every request of this client, e.g. "http://proxy.internal:3128"
        /// (user:password@ allowed; never logged). "" means no proxy even if HTTPS_PROXY is set.
        /// Unset, ALL_PROXY, HTTPS_PROXY, HTTP_PROXY and NO_PROXY decide.
        /// </summary>
        public RaptokenOptions WithProxy(string proxyUrl) =>
            SetText(proxyUrl, nameof(proxyUrl), NativeMethods.rapidata_options_set_proxy);

        /// <summary>
        /// Sends the library's diagnostics (fetch start and end, retries, throttling, discovery,
        /// each request at Debug) to <paramref name="callback"/>: lines at
        /// <paramref name="minLevel"/> or more severe. Lines never contain a secret or a token.
        /// The callback runs on whatever thread is fetching, possibly several at once, so it must
        /// be thread-safe; it must not call a <see cref="RaptokenClient"/> (such calls throw
        /// InvalidOperationException: the thread is inside the library). Exceptions it throws are
        /// swallowed. Clients created from these options keep it, even after the options are
        /// disposed. null removes it.
        /// </summary>
        public RaptokenOptions WithLogCallback(Action<RaptokenLogLevel, string> callback, RaptokenLogLevel minLevel = RaptokenLogLevel.Info)
        {
            lock (gate)
            {
                ThrowIfDisposed();
                var sink = callback == null ? null : new LogSink(callback);
                try
                {
                    ErrorHandle error;
                    var status = NativeMethods.rapidata_options_set_log_callback(handle,
                        sink == null ? IntPtr.Zero : LogSink.TrampolinePointer,
                        sink == null ? IntPtr.Zero : sink.UserData,
                        (uint)minLevel, out error);
                    RaptokenException.Check(status, error);
                }
                catch
                {
                    sink?.Release();
                    throw;
                }
                // The native options no longer point at the previous sink.
                handle.LogSink?.Release();
                handle.LogSink = sink;
            }
            return this;
        }

        /// <summary>Frees the native builder. Clients created from it keep working.</summary>
        public void Dispose()
        {
            // Under the lock: every other use of the handle is, so the native free (and the
            // release of the log callback with it) happens here, never in the middle of a setter.
            lock (gate) handle.Dispose();
        }

        internal ClientHandle CreateClient()
        {
            lock (gate)
            {
                ThrowIfDisposed();
                // The client gets its own reference to the log callback: it may outlive the options.
                var sink = handle.LogSink;
                sink?.AddReference();
                ClientHandle client = null;
                try
                {
                    ErrorHandle error;
                    var status = NativeMethods.rapidata_client_new_with_options(handle, out client, out error);
                    RaptokenException.Check(status, error);
                    client.LogSink = sink;
                    return client;
                }
                catch
                {
                    sink?.Release(); // no native client holds it (an invalid handle is never released)
                    throw;
                }
            }
        }

        /// <summary>A TimeSpan as whole milliseconds for a uint32 parameter, rounded up.</summary>
        internal static uint Milliseconds(TimeSpan value, string paramName)
        {
            double ms = Math.Ceiling(value.TotalMilliseconds);
            if (ms < 0 || ms > uint.MaxValue)
                throw new ArgumentOutOfRangeException(paramName, "must be between zero and 49.7 days");
            return (uint)ms;
        }

        private delegate RaptokenStatus TextSetter(OptionsHandle options, byte[] value, out ErrorHandle error);

        private delegate RaptokenStatus NumberSetter(OptionsHandle options, uint value, out ErrorHandle error);

        private RaptokenOptions SetText(string value, string paramName, TextSetter setter)
        {
            if (value == null) throw new ArgumentNullException(paramName);
            byte[] bytes = Utf8.ToNative(value, paramName);
            try
            {
                lock (gate)
                {
                    ThrowIfDisposed();
                    ErrorHandle error;
                    RaptokenException.Check(setter(handle, bytes, out error), error);
                }
            }
            finally
            {
                Utf8.Wipe(bytes); // it may be the secret
            }
            return this;
        }

        private RaptokenOptions SetNumber(uint value, NumberSetter setter)
        {
            lock (gate)
            {
                ThrowIfDisposed();
                ErrorHandle error;
                RaptokenException.Check(setter(handle, value, out error), error);
            }
            return this;
        }

        private void ThrowIfDisposed()
        {
            if (handle.IsClosed) throw new ObjectDisposedException(nameof(RaptokenOptions));
        }
    }
}
