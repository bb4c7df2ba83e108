using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// A managed log callback behind rapidata_options_set_log_callback. The native side gets one
    /// static trampoline and, as user_data, a GCHandle to this object. The C contract says
    /// user_data must stay valid as long as the options or any client made from them live, and
    /// options may be freed before their clients: so each native owner (an
    /// <see cref="OptionsHandle"/>, every <see cref="ClientHandle"/>) holds a reference, released
    /// after the native object is freed, and the GCHandle is freed with the last one.
    /// </summary>
    internal sealed class LogSink
    {
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void NativeCallback(IntPtr userData, uint level, IntPtr message);

        // Static: the delegate, and the native thunk the runtime made for it, live as long as the
        // AppDomain, so no native caller can ever reach a collected delegate.
        private static readonly NativeCallback Trampoline = Deliver;
        internal static readonly IntPtr TrampolinePointer = Marshal.GetFunctionPointerForDelegate(Trampoline);

        // Sinks whose GCHandle is still allocated, for the lifetime tests (InternalsVisibleTo).
        private static long live;

        // Depth of log callbacks running on this thread: that thread is inside the library.
        [ThreadStatic] private static int depth;

        private readonly Action<RaptokenLogLevel, string> callback;
        private GCHandle self;
        private int references = 1; // the creator's (the options')
        private long failures;

        internal LogSink(Action<RaptokenLogLevel, string> callback)
        {
            this.callback = callback;
            self = GCHandle.Alloc(this);
            Interlocked.Increment(ref live);
        }

        internal static long Live => Interlocked.Read(ref live);

        /// <summary>True on a thread that is running a log callback (and so is inside a client).</summary>
        internal static bool InCallback => depth > 0;

        internal IntPtr UserData => GCHandle.ToIntPtr(self);

        /// <summary>Exceptions the callback threw (swallowed: they must not unwind into native code).</summary>
        internal long Failures => Interlocked.Read(ref failures);

        internal void AddReference() => Interlocked.Increment(ref references);

        internal void Release()
        {
            if (Interlocked.Decrement(ref references) == 0)
            {
                self.Free();
                Interlocked.Decrement(ref live);
            }
        }

        // Runs on whatever thread fetches, possibly one the runtime did not create (the runtime
        // attaches it on entry). Nothing may escape: an exception unwinding through the library's
        // frames is undefined behaviour, and .NET would end the process.
        private static void Deliver(IntPtr userData, uint level, IntPtr message)
        {
            LogSink sink = null;
            depth++;
            try
            {
                sink = (LogSink)GCHandle.FromIntPtr(userData).Target;
                sink.callback((RaptokenLogLevel)level, Utf8.FromNative(message));
            }
            catch (Exception)
            {
                if (sink != null) Interlocked.Increment(ref sink.failures);
            }
            finally
            {
                depth--;
            }
        }
    }
}
