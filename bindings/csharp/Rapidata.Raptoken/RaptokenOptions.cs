using System;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// Settings for a <see cref="RaptokenClient"/>, one method per rapidata_options_set_* (all but
    /// WithLogCallback generated into RaptokenOptions.g.cs by scripts/gen-bindings).
    /// Each method hands its value to the native builder at once, so a bad value throws
    /// <see cref="RaptokenException"/> (InvalidArgument) right there, and the secret is never kept
    /// in managed memory by this class. Anything not set comes from RAPIDATA_* environment
    /// variables, then defaults. Safe to share between threads (calls are serialized); dispose it
    /// once clients are created: they copied what they need.
    /// </summary>
    public sealed partial class RaptokenOptions : IDisposable
    {
        private readonly OptionsHandle handle;
        private readonly object gate = new object();

        /// <summary>An empty builder.</summary>
        public RaptokenOptions()
        {
            NativeLibraryCheck.EnsureLoaded();
            RaptokenException.Check(NativeMethods.rapidata_options_new(out handle), null);
        }

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

        /// <summary>A count for a uint32 parameter; the library checks the range it allows.</summary>
        private static uint Count(int value, string paramName)
        {
            if (value < 0) throw new ArgumentOutOfRangeException(paramName, "must not be negative");
            return (uint)value;
        }

        /// <summary>NUL-terminated UTF-8 for a string parameter; null is refused.</summary>
        private static byte[] Text(string value, string paramName)
        {
            if (value == null) throw new ArgumentNullException(paramName);
            return Utf8.ToNative(value, paramName);
        }

        private delegate RaptokenStatus NativeSetter(OptionsHandle options, out ErrorHandle error);

        /// <summary>One call of a native setter (the generated With methods make them).</summary>
        private RaptokenOptions Set(NativeSetter setter)
        {
            lock (gate)
            {
                ThrowIfDisposed();
                ErrorHandle error;
                RaptokenException.Check(setter(handle, out error), error);
            }
            return this;
        }

        private void ThrowIfDisposed()
        {
            if (handle.IsClosed) throw new ObjectDisposedException(nameof(RaptokenOptions));
        }
    }
}
