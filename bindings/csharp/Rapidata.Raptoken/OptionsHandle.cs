using System;
using System.Runtime.InteropServices;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// Owns a RapidataOptions*; frees it with rapidata_options_free, then lets go of the log
    /// callback the native options pointed to (see <see cref="LogSink"/>).
    /// </summary>
    internal sealed class OptionsHandle : SafeHandle
    {
        public OptionsHandle() : base(IntPtr.Zero, ownsHandle: true) { }

        /// <summary>The log callback the native options hold, or null. Changed under RaptokenOptions' lock.</summary>
        internal LogSink LogSink { get; set; }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMethods.rapidata_options_free(handle);
            LogSink?.Release();
            return true;
        }
    }
}
