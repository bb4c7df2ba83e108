using System;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// Turns "libraptoken is not there" into a message that says what to install. The runtime's
    /// own DllNotFoundException names only "raptoken"; this one says where the package puts the
    /// library and how each runtime finds it. Called where the binding first needs the library
    /// (creating options or a client, <see cref="RaptokenClient.NativeVersion"/>); after one
    /// success it costs a volatile read.
    /// </summary>
    internal static class NativeLibraryCheck
    {
        private static volatile bool loaded;

        internal static void EnsureLoaded()
        {
            if (loaded) return;
            try
            {
                NativeMethods.rapidata_version();
            }
            catch (DllNotFoundException e)
            {
                throw new DllNotFoundException(MissingMessage(e.Message), e);
            }
            catch (EntryPointNotFoundException e)
            {
                throw new EntryPointNotFoundException(
                    "raptoken: the libraptoken that was loaded is not the one this binding was built for " +
                    "(it lacks rapidata_version). Use the libraptoken shipped with the same version of " +
                    "Rapidata.Raptoken. Loader: " + e.Message, e);
            }
            loaded = true;
        }

        private static string MissingMessage(string loaderMessage) =>
            "raptoken: the native library libraptoken.so could not be loaded (this process: " +
            Environment.OSVersion + ", " + (IntPtr.Size * 8) + "-bit). " +
            "The Rapidata.Raptoken NuGet package ships it as runtimes/linux-x64/native/libraptoken.so: " +
            ".NET (Core) loads it from there; for .NET Framework and Mono the package's build targets " +
            "copy it next to your application, so rebuild the application, or copy that file next to " +
            "Rapidata.Raptoken.dll yourself. On other platforms, install libraptoken (the release " +
            "archive, or make install from source) and put its lib directory on LD_LIBRARY_PATH " +
            "(DYLD_LIBRARY_PATH on macOS). Loader: " + loaderMessage;
    }
}
