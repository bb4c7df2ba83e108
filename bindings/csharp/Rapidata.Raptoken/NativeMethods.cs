using System;
using System.Runtime.InteropServices;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// Every entry point of include/raptoken.h this binding uses, in one place. Handles travel as
    /// typed SafeHandles, so the marshaller keeps a handle alive (and unfreed) for the length of
    /// each call even if another thread disposes its owner meanwhile. Strings go in as
    /// NUL-terminated UTF-8 byte arrays (see <see cref="Utf8"/>) and come out as IntPtr: the
    /// marshaller's own string conversions differ between Mono, .NET Framework and .NET.
    /// </summary>
    internal static class NativeMethods
    {
        // Resolved as libraptoken.so by Mono (LD_LIBRARY_PATH, or a dllmap) and by .NET
        // (the assembly's folder, or runtimes/<rid>/native/ in the package).
        private const string Lib = "raptoken";

        // size_t is UIntPtr; C enums are int-sized; bool is one byte (stdbool).

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_client_new(
            byte[] clientId, byte[] clientSecret, out ClientHandle client, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_client_new_with_options(
            OptionsHandle options, out ClientHandle client, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_get_token_info(
            ClientHandle client, uint minValidMs, [Out] byte[] buf, UIntPtr bufLen, out UIntPtr outLen,
            out TokenInfo info, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_invalidate_token(
            ClientHandle client, byte[] token, [MarshalAs(UnmanagedType.U1)] out bool dropped, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void rapidata_free(IntPtr client);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr rapidata_error_message(ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr rapidata_error_oauth_code(ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr rapidata_error_oauth_description(ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern ushort rapidata_error_http_status(ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern long rapidata_error_retry_after_unix_ms(ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void rapidata_error_free(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_new(out OptionsHandle options);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void rapidata_options_free(IntPtr options);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_client_id(OptionsHandle options, byte[] value, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_client_secret(OptionsHandle options, byte[] value, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_issuer(OptionsHandle options, byte[] value, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_environment(OptionsHandle options, byte[] value, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_token_endpoint(OptionsHandle options, byte[] value, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_scope(OptionsHandle options, byte[] value, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_ca_file(OptionsHandle options, byte[] value, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_credentials_file(OptionsHandle options, byte[] value, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_auth_method(OptionsHandle options, uint method, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_connect_timeout_ms(OptionsHandle options, uint ms, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_request_timeout_ms(OptionsHandle options, uint ms, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_expiry_margin_ms(OptionsHandle options, uint ms, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_refresh_ahead_ms(OptionsHandle options, uint ms, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_shared_cache(
            OptionsHandle options, [MarshalAs(UnmanagedType.U1)] bool enabled, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_shared_cache_dir(OptionsHandle options, byte[] value, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_token_file(OptionsHandle options, byte[] value, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_max_attempts(OptionsHandle options, uint attempts, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_retry_backoff_ms(
            OptionsHandle options, uint baseMs, uint maxMs, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_max_retry_after_ms(OptionsHandle options, uint ms, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_deadline_ms(OptionsHandle options, uint ms, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_trust(OptionsHandle options, uint flags, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_proxy(OptionsHandle options, byte[] value, out ErrorHandle error);

        // callback is LogSink.TrampolinePointer or IntPtr.Zero (removes it).
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_options_set_log_callback(
            OptionsHandle options, IntPtr callback, IntPtr userData, uint minLevel, out ErrorHandle error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern RaptokenStatus rapidata_client_stats(ClientHandle client, out Stats stats);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr rapidata_version();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr rapidata_status_name(uint status);

        /// <summary>RapidataStats, field for field.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Stats
        {
            public ulong CacheHits;
            public ulong TokenRequests;
            public ulong DiscoveryRequests;
            public ulong FetchesOk;
            public ulong FetchesFailed;
            public ulong Retries;
            public ulong Throttled;
            public ulong KeptServing;
            public long LastErrorUnixMs;
            public long LastSuccessUnixMs;
            public long ThrottledUntilUnixMs;
            public uint LastErrorStatus;
            public uint LastErrorHttpStatus;
        }

        /// <summary>RapidataTokenInfo, field for field.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TokenInfo
        {
            public long ExpiresAtUnixMs;
            public long RefreshAtUnixMs;
            public long LifetimeMs;
        }
    }
}
