using NUnit.Framework;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>Token comparisons whose failure messages do not print the tokens (they are secrets).</summary>
    internal static class TokenAssert
    {
        internal static void Same(string expected, string actual, string what = "token")
        {
            if (expected != actual) Assert.Fail(what + ": expected the same token, got " + Describe(expected) + " and " + Describe(actual));
        }

        internal static void Different(string previous, string actual, string what = "token")
        {
            if (previous == actual) Assert.Fail(what + ": expected a new token, got the previous one again " + Describe(actual));
        }

        private static string Describe(string token) =>
            token == null ? "null" : "(" + token.Length + " chars, starting " + token.Substring(0, System.Math.Min(4, token.Length)) + ")";
    }
}
