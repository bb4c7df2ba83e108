using System;
using System.Runtime.InteropServices;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// Owns a RapidataError* received through an out parameter. Only
    /// <see cref="RaptokenException.Check"/> reads one, and it disposes it in a finally block.
    /// </summary>
    internal sealed class ErrorHandle : SafeHandle
    {
        public ErrorHandle() : base(IntPtr.Zero, ownsHandle: true) { }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMethods.rapidata_error_free(handle);
            return true;
        }
    }
}
