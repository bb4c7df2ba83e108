using System;
using System.Runtime.InteropServices;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// Owns a RapidataCancellation*: the flag a <see cref="System.Threading.CancellationToken"/>
    /// registration sets while a login runs. SafeHandle's reference count keeps it from being
    /// freed while a native call (the login, or the cancel from another thread) still uses it.
    /// </summary>
    internal sealed class CancellationHandle : SafeHandle
    {
        public CancellationHandle() : base(IntPtr.Zero, ownsHandle: true) { }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMethods.rapidata_cancellation_free(handle);
            return true;
        }
    }
}
