using System;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// Which certificate authorities TLS trusts (RapidataTrust flags, for
    /// <see cref="RaptokenOptions.WithTrust"/>). Default: <see cref="Builtin"/>, or only the CA
    /// file when one is set.
    /// </summary>
    [Flags]
    public enum Trust
    {
        /// <summary>Mozilla's root certificates compiled into the library. Cannot be combined
        /// with <see cref="System"/> or a CA file (creating the client then throws Config).</summary>
        Builtin = 1,
        /// <summary>The system's bundle: SSL_CERT_FILE and SSL_CERT_DIR if set, else the
        /// distribution's file. With a CA file, the file's certificates are added to it.</summary>
        System = 2,
    }
}
