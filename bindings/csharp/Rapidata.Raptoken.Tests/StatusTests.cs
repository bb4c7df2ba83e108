using System;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    [TestFixture]
    public class StatusTests
    {
        [Test]
        public void StatusEnumMirrorsTheLibrary()
        {
            var values = (RaptokenStatus[])Enum.GetValues(typeof(RaptokenStatus));
            Assert.AreEqual(12, values.Length);
            foreach (var s in values)
            {
                string expected = "RAPIDATA_STATUS_" + Regex.Replace(s.ToString(), "(?<=[a-z])(?=[A-Z])", "_").ToUpperInvariant();
                Assert.AreEqual(expected, Utf8.FromNative(NativeMethods.rapidata_status_name((uint)s)));
            }
            // ... and the library knows no status beyond the last one named here.
            Assert.AreEqual("RAPIDATA_STATUS_UNKNOWN", Utf8.FromNative(NativeMethods.rapidata_status_name((uint)values.Length)));
        }

        [Test]
        public void NativeVersionMatchesCargoToml()
        {
            string expected = Environment.GetEnvironmentVariable("RAPTOKEN_EXPECTED_VERSION");
            Assert.IsNotNullOrEmpty(expected, "the suite exports the version from Cargo.toml");
            Assert.AreEqual(expected, RaptokenClient.NativeVersion);
        }
    }
}
