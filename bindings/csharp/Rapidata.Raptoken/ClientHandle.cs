using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// Owns a RapidataClient*. rapidata_free must not run while a call still uses the client:
    /// SafeHandle's reference count gives exactly that (the marshaller holds a reference for the
    /// length of each call), and its finalizer frees a client nobody disposed. It also holds the
    /// client's reference to its log callback, released only after rapidata_free has returned
    /// (no call can log after that).
    /// </summary>
    internal sealed class ClientHandle : SafeHandle
    {
        // How many clients were freed, for the finalization test (InternalsVisibleTo).
        private static long released;

        public ClientHandle() : base(IntPtr.Zero, ownsHandle: true) { }

        internal static long Released => Interlocked.Read(ref released);

        /// <summary>The log callback the native client calls, or null. Set once, right after creation.</summary>
        internal LogSink LogSink { get; set; }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMethods.rapidata_free(handle);
            LogSink?.Release();
            Interlocked.Increment(ref released);
            return true;
        }
    }
}
