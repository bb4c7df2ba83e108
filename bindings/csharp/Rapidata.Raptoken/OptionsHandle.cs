using System;
using System.Runtime.InteropServices;

namespace Rapidata.Raptoken
{
    /// <summary>Owns a RapidataOptions*; frees it with rapidata_options_free.</summary>
    internal sealed class OptionsHandle : SafeHandle
    {
        public OptionsHandle() : base(IntPtr.Zero, ownsHandle: true) { }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMethods.rapidata_options_free(handle);
            return true;
        }
    }
}
