using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// UTF-8 in both directions, done by hand: Marshal.PtrToStringUTF8 is not in netstandard2.0,
    /// and the marshaller's default string encoding differs between runtimes.
    /// </summary>
    internal static class Utf8
    {
        private static readonly Encoding Strict = new UTF8Encoding(false, throwOnInvalidBytes: true);

        /// <summary>NUL-terminated UTF-8 bytes of <paramref name="s"/>; null stays null (C NULL).</summary>
        internal static byte[] ToNative(string s, string paramName)
        {
            if (s == null) return null;
            if (s.IndexOf('\0') >= 0)
                throw new ArgumentException("must not contain NUL characters", paramName);
            byte[] bytes;
            try
            {
                bytes = new byte[Strict.GetByteCount(s) + 1];
            }
            catch (EncoderFallbackException)
            {
                // A lone surrogate; never echo the value, it may be a secret.
                throw new ArgumentException("is not valid Unicode (lone surrogate)", paramName);
            }
            Strict.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>The NUL-terminated UTF-8 string at <paramref name="p"/>; null for NULL.</summary>
        internal static string FromNative(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0) len++;
            var bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Overwrites a buffer that held a secret.</summary>
        internal static void Wipe(byte[] bytes)
        {
            if (bytes != null) Array.Clear(bytes, 0, bytes.Length);
        }
    }
}
