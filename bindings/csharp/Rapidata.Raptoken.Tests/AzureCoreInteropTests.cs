using System;
using System.Threading;
using Azure.Core;
using NUnit.Framework;
using Rapidata.Raptoken;
using Rapidata.Raptoken.Tests;

// Outside the Rapidata.Raptoken namespace on purpose, like a user's file: with both namespaces
// imported, `AccessToken` must mean Azure.Core's. Had Rapidata.Raptoken a type of that name,
// this file would not compile (CS0104, ambiguous reference), and the suite would fail.
namespace AzureCoreInterop
{
    [TestFixture]
    public class AzureCoreInteropTests
    {
        private static readonly TokenRequestContext Context = new TokenRequestContext(new[] { "https://api.rapidata.ai/.default" });

        [Test]
        public void ReadmeTokenCredentialAdapterServesTheClientsToken()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                TokenCredential credential = new RaptokenCredential(client); // bindings/csharp/README.md
                AccessToken viaAsync = credential.GetTokenAsync(Context, CancellationToken.None).AsTask().Result;
                AccessToken viaSync = credential.GetToken(Context, CancellationToken.None);
                RaptokenToken info = client.GetTokenInfo(TimeSpan.Zero);
                TokenAssert.Same(info.Value, viaAsync.Token);
                TokenAssert.Same(info.Value, viaSync.Token);
                Assert.AreEqual(info.ExpiresAt, viaAsync.ExpiresOn);
                Assert.AreEqual(info.ExpiresAt, viaSync.ExpiresOn);
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void ReadmeTokenCredentialAdapterPassesCancellationOn()
        {
            using (var client = TestEnv.Client(TestEnv.Basic()))
            {
                TokenCredential credential = new RaptokenCredential(client);
                var task = credential.GetTokenAsync(Context, new CancellationToken(true)).AsTask();
                Assert.IsTrue(task.IsCanceled, "status " + task.Status);
            }
        }
    }
}
