using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Rapidata.Raptoken
{
    // The workstation login: rapidata_login with a managed URL callback and a CancellationToken.
    public sealed partial class RaptokenClient
    {
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate void LoginUrlCallback(IntPtr userData, IntPtr url);

        // Static, as LogSink's: the delegate and its native thunk live as long as the AppDomain;
        // each login passes a GCHandle to its own state as user_data.
        private static readonly LoginUrlCallback LoginUrlTrampoline = DeliverLoginUrl;
        private static readonly IntPtr LoginUrlPointer = Marshal.GetFunctionPointerForDelegate(LoginUrlTrampoline);

        /// <summary>
        /// Logs in on a workstation, as Rapidata's Python SDK does on first use: starts a login
        /// at the issuer's login bridge, has the person open a URL and approve in a browser, then
        /// creates an API client ("&lt;hostname&gt; - raptoken") and stores its id and secret in
        /// the credentials file (~/.config/rapidata/credentials.json, the SDK's format; other
        /// entries are kept). A client created afterwards without credentials
        /// (<see cref="FromEnvironment"/>), and the SDK, use them. The login's own access token
        /// is never stored.
        /// <para/>
        /// <paramref name="options"/> (null: defaults and RAPIDATA_* variables) gives the issuer
        /// or environment, CA file, trust, proxy, timeouts, credentials file, log callback and
        /// <see cref="RaptokenOptions.WithLoginTimeout"/> (how long to wait for the approval; 300 s
        /// by default); client credentials are not used. <paramref name="onUrl"/> receives the URL
        /// once, on the calling thread, before the wait (a GUI shows it; it should return
        /// promptly); null makes the library try $BROWSER, then xdg-open (with a display) or open
        /// (macOS), without waiting for the browser, and print the URL on stderr. An exception
        /// thrown by <paramref name="onUrl"/> ends the login and is rethrown.
        /// <para/>
        /// Blocks the calling thread until the login ends (see <see cref="LoginAsync"/>).
        /// Cancelling <paramref name="cancellationToken"/> ends it within 20 ms while it waits, or
        /// when its current HTTP request ends, with an <see cref="OperationCanceledException"/>.
        /// Failures throw <see cref="RaptokenException"/>: Config for an issuer without Rapidata's
        /// login bridge or a credentials file that cannot be written (checked before
        /// <paramref name="onUrl"/> is called); OAuth with OAuthCode "access_denied" when the
        /// person refused; Timeout when nobody approved within the login timeout; Http, Transport,
        /// Protocol for the server's failures.
        /// </summary>
        public static void Login(RaptokenOptions options = null, Action<string> onUrl = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            RaptokenOptions own = options == null ? new RaptokenOptions() : null;
            try
            {
                (options ?? own).Login(onUrl, cancellationToken);
            }
            finally
            {
                own?.Dispose();
            }
        }

        /// <summary>
        /// <see cref="Login"/> on a thread of its own (not a pool thread: it may wait minutes),
        /// for callers that must not block, such as a UI thread. <paramref name="onUrl"/> runs on
        /// that thread: marshal to the UI thread inside it if needed. Cancelling
        /// <paramref name="cancellationToken"/> gives a cancelled task.
        /// </summary>
        public static Task LoginAsync(RaptokenOptions options = null, Action<string> onUrl = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
            // The token given to StartNew too: the OperationCanceledException Login throws for it
            // then makes the task Canceled rather than Faulted.
            return Task.Factory.StartNew(() => Login(options, onUrl, cancellationToken), cancellationToken,
                TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        /// <summary>What one login's URL callback needs; reached through a GCHandle.</summary>
        internal sealed class LoginState
        {
            internal Action<string> OnUrl;
            internal CancellationHandle Flag;
            internal Exception Thrown;
        }

        // Runs on the thread that called Login. Nothing may unwind into the library: an exception
        // is kept, the login is cancelled, and Login rethrows it.
        private static void DeliverLoginUrl(IntPtr userData, IntPtr url)
        {
            var state = (LoginState)GCHandle.FromIntPtr(userData).Target;
            try
            {
                state.OnUrl(Utf8.FromNative(url));
            }
            catch (Exception e)
            {
                state.Thrown = e;
                NativeMethods.rapidata_cancellation_cancel(state.Flag);
            }
        }

        internal static void RunLogin(OptionsHandle handle, Action<string> onUrl, CancellationToken cancellationToken)
        {
            CancellationHandle flag;
            RaptokenException.Check(NativeMethods.rapidata_cancellation_new(out flag), null);
            var state = new LoginState { OnUrl = onUrl, Flag = flag };
            var self = GCHandle.Alloc(state);
            RaptokenStatus status;
            ErrorHandle error;
            try
            {
                // Disposing the registration waits for a cancel that is running, so the flag is
                // never used after it is freed.
                using (cancellationToken.Register(() => NativeMethods.rapidata_cancellation_cancel(flag)))
                {
                    status = NativeMethods.rapidata_login(handle, onUrl == null ? IntPtr.Zero : LoginUrlPointer,
                        GCHandle.ToIntPtr(self), flag, out error);
                }
            }
            finally
            {
                self.Free();
                flag.Dispose();
            }
            if (state.Thrown != null)
            {
                error?.Dispose();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(state.Thrown).Throw();
            }
            if (status == RaptokenStatus.Cancelled && cancellationToken.IsCancellationRequested)
            {
                RaptokenException cause;
                using (error) cause = RaptokenException.FromNative(status, error);
                throw new OperationCanceledException(cause.Message, cause, cancellationToken);
            }
            RaptokenException.Check(status, error);
        }
    }

    public sealed partial class RaptokenOptions
    {
        /// <summary>rapidata_login with these options, under the builder's lock.</summary>
        internal void Login(Action<string> onUrl, CancellationToken cancellationToken)
        {
            lock (gate)
            {
                ThrowIfDisposed();
                RaptokenClient.RunLogin(handle, onUrl, cancellationToken);
            }
        }
    }
}
