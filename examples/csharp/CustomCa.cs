using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace RaptokenExample
{
    /// <summary>
    /// Lets HttpClient trust a private CA (RAPIDATA_CA_FILE, e.g. a test or mkcert CA) the way
    /// libraptoken does: the PEM's certificates replace the system roots. A server passes only
    /// if its chain ends in one of those certificates and its name matches; nothing else is
    /// relaxed. (.NET 5+ could use X509ChainTrustMode.CustomRootTrust; this also runs on
    /// netstandard2.0, .NET Framework and Mono.)
    /// </summary>
    public static class CustomCa
    {
        /// <summary>An HttpClientHandler trusting only the CAs in <paramref name="pemPath"/>, or the
        /// system roots if it is null or empty.</summary>
        public static HttpClientHandler Handler(string pemPath)
        {
            var handler = new HttpClientHandler();
            if (string.IsNullOrEmpty(pemPath)) return handler;
            var roots = Load(pemPath);
            handler.ServerCertificateCustomValidationCallback =
                (request, certificate, chain, errors) => Validate(certificate, errors, roots);
            return handler;
        }

        /// <summary>The certificates of a PEM file (DER-decoded by hand: portable to every runtime).</summary>
        public static List<X509Certificate2> Load(string pemPath)
        {
            var text = System.IO.File.ReadAllText(pemPath);
            var certs = new List<X509Certificate2>();
            foreach (Match m in Regex.Matches(text,
                         "-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", RegexOptions.Singleline))
                certs.Add(new X509Certificate2(Convert.FromBase64String(Regex.Replace(m.Groups[1].Value, "\\s", ""))));
            if (certs.Count == 0) throw new ArgumentException("no certificates in " + pemPath);
            return certs;
        }

        /// <summary>True if <paramref name="certificate"/> chains to one of <paramref name="roots"/>.</summary>
        public static bool Validate(X509Certificate2 certificate, SslPolicyErrors errors, List<X509Certificate2> roots)
        {
            if (certificate == null) return false;
            // Name mismatch or no certificate: never acceptable, whatever the CA.
            if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
            using (var chain = new X509Chain())
            {
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // private CAs publish no CRLs
                chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
                foreach (var root in roots) chain.ChainPolicy.ExtraStore.Add(root);
                if (!chain.Build(certificate)) return false;
                foreach (var status in chain.ChainStatus)
                    if (status.Status != X509ChainStatusFlags.UntrustedRoot && status.Status != X509ChainStatusFlags.NoError)
                        return false;
                // The chain must end in one of our roots, not in some other (system) CA.
                var top = chain.ChainElements[chain.ChainElements.Count - 1].Certificate;
                foreach (var root in roots)
                    if (top.RawData.Length == root.RawData.Length && top.Thumbprint == root.Thumbprint)
                        return true;
                return false;
            }
        }
    }
}
