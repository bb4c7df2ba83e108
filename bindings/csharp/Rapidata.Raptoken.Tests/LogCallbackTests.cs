using System;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>WithLogCallback: what arrives, from which threads, and how long the callback lives.</summary>
    [TestFixture]
    public class LogCallbackTests
    {
        [Test]
        public void FetchLogsInfoAndDebugLinesWithoutSecretOrToken()
        {
            var c = TestEnv.Basic();
            var log = new LogRecorder();
            string token;
            using (var o = TestEnv.Options(c).WithLogCallback(log.Record, RaptokenLogLevel.Debug))
            using (var client = new RaptokenClient(o))
                token = client.GetToken();
            Assert.That(log.Count(RaptokenLogLevel.Info, RaptokenLogLevel.Debug), Is.GreaterThanOrEqualTo(1), log.Dump());
            Assert.AreEqual(0, log.Count(RaptokenLogLevel.Warn, RaptokenLogLevel.Error), log.Dump());
            log.AssertNoneContains(c.Secret, token);
            Assert.IsTrue(Array.TrueForAll(log.Lines.ToArray(), l => l.Text.Length > 0));
        }

        [Test]
        public void MinimumLevelFiltersLines()
        {
            var quiet = new LogRecorder();
            using (var o = TestEnv.Options(TestEnv.Basic()).WithLogCallback(quiet.Record, RaptokenLogLevel.Warn))
            using (var client = new RaptokenClient(o))
                client.GetToken();
            Assert.IsEmpty(quiet.Lines, "a fetch that works has nothing to warn about");

            var warnings = new LogRecorder();
            using (var o = TestEnv.Options(TestEnv.Basic())
                       .WithTokenEndpoint("https://127.0.0.1:" + TestEnv.ClosedPort() + "/connect/token")
                       .WithMaxAttempts(2).WithRetryBackoff(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1))
                       .WithLogCallback(warnings.Record, RaptokenLogLevel.Warn))
            using (var client = new RaptokenClient(o))
                Assert.Throws<RaptokenException>(() => client.GetToken());
            Assert.That(warnings.Count(RaptokenLogLevel.Warn, RaptokenLogLevel.Error), Is.GreaterThanOrEqualTo(1), warnings.Dump());
            Assert.AreEqual(0, warnings.Count(RaptokenLogLevel.Info, RaptokenLogLevel.Debug), warnings.Dump());
        }

        [Test]
        public void ThrowingCallbackDoesNotDisturbTheClient()
        {
            int calls = 0;
            Action<RaptokenLogLevel, string> boom = (level, line) =>
            {
                Interlocked.Increment(ref calls);
                throw new InvalidOperationException("callback failure " + line);
            };
            using (var o = TestEnv.Options(TestEnv.Basic()).WithLogCallback(boom, RaptokenLogLevel.Debug))
            using (var client = new RaptokenClient(o))
            {
                Assert.IsNotEmpty(client.GetToken());
                Assert.That(Volatile.Read(ref calls), Is.GreaterThan(0));
                Assert.AreEqual(calls, Sink(client).Failures, "every exception was caught and counted");
            }
            // A failing fetch still reports its own error, not the callback's.
            using (var o = TestEnv.Options(TestEnv.Basic())
                       .WithTokenEndpoint("https://127.0.0.1:" + TestEnv.ClosedPort() + "/connect/token").WithMaxAttempts(1)
                       .WithLogCallback(boom, RaptokenLogLevel.Debug))
            using (var client = new RaptokenClient(o))
                Assert.AreEqual(RaptokenStatus.Transport, Assert.Throws<RaptokenException>(() => client.GetToken()).Status);
        }

        [Test]
        public void CallbackOutlivesItsOptionsAndIsFreedWithTheLastClient()
        {
            Collect();
            long live = LogSink.Live;
            var log = new LogRecorder();
            var options = TestEnv.Options(TestEnv.Basic()).WithLogCallback(log.Record, RaptokenLogLevel.Debug);
            var first = new RaptokenClient(options);
            var second = new RaptokenClient(options);
            options.Dispose();
            Collect(); // nothing managed refers to the delegate but the clients' references
            Assert.AreEqual(live + 1, LogSink.Live);
            first.GetToken();
            Assert.IsNotEmpty(log.Lines);
            first.Dispose();
            Assert.AreEqual(live + 1, LogSink.Live, "the second client still uses it");
            int before = log.Lines.Count;
            second.GetToken();
            Assert.That(log.Lines.Count, Is.GreaterThan(before));
            second.Dispose();
            Assert.AreEqual(live, LogSink.Live, "freed with the last client");

            // A client nobody disposes lets go of it when finalized.
            AbandonClientWithCallback();
            Collect();
            Assert.AreEqual(live, LogSink.Live);
        }

        [Test]
        public void ReplacedOrRemovedCallbackIsReleased()
        {
            Collect();
            long live = LogSink.Live;
            var old = new LogRecorder();
            var current = new LogRecorder();
            using (var o = TestEnv.Options(TestEnv.Basic()).WithLogCallback(old.Record, RaptokenLogLevel.Debug))
            {
                o.WithLogCallback(current.Record, RaptokenLogLevel.Debug);
                Assert.AreEqual(live + 1, LogSink.Live);
                using (var client = new RaptokenClient(o)) client.GetToken();
                Assert.IsEmpty(old.Lines);
                Assert.IsNotEmpty(current.Lines);

                o.WithLogCallback(null);
                Assert.AreEqual(live, LogSink.Live);
                int seen = current.Lines.Count;
                using (var client = new RaptokenClient(o)) client.GetTokenInfo(TimeSpan.Zero);
                Assert.AreEqual(seen, current.Lines.Count);

                // A refused level keeps nothing alive.
                Assert.AreEqual(RaptokenStatus.InvalidArgument,
                    Assert.Throws<RaptokenException>(() => o.WithLogCallback(current.Record, (RaptokenLogLevel)9)).Status);
                Assert.AreEqual(live, LogSink.Live);
            }
        }

        [Test]
        public void CallbackCallingAClientGetsInvalidOperation()
        {
            RaptokenClient client = null;
            Exception inside = null;
            Action<RaptokenLogLevel, string> reenter = (level, line) =>
            {
                try
                {
                    client.GetTokenInfo(TimeSpan.Zero);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref inside, e, null);
                }
            };
            using (var o = TestEnv.Options(TestEnv.Basic()).WithLogCallback(reenter, RaptokenLogLevel.Debug))
            using (client = new RaptokenClient(o))
            {
                Assert.IsNotEmpty(client.GetToken());
                Assert.IsInstanceOf<InvalidOperationException>(inside);
                // Outside the callback the same thread may call again.
                Assert.IsNotEmpty(client.GetTokenInfo(TimeSpan.Zero).Value);
            }
        }

        [Test]
        public void CallbackRunsOnAThreadTheRuntimeDidNotCreate()
        {
            var c = TestEnv.Basic();
            var log = new LogRecorder();
            using (var o = TestEnv.Options(c).WithLogCallback(log.Record, RaptokenLogLevel.Debug))
            using (var client = new RaptokenClient(o))
            {
                // A pthread of the helper library fetches (rapidata_get_token with no buffer:
                // the token is fetched, then BUFFER_TOO_SMALL).
                int status = raptoken_cs_fetch_on_native_thread(Handle(client));
                Assert.AreEqual((int)RaptokenStatus.BufferTooSmall, status);
                Assert.IsNotEmpty(log.Lines);
                int me = Thread.CurrentThread.ManagedThreadId;
                Assert.IsTrue(Array.TrueForAll(log.Lines.ToArray(), l => l.ThreadId != me), "logged on the native thread");
                // The token it fetched is the client's: this call sends no request.
                string token = client.GetToken();
                log.AssertNoneContains(c.Secret, token);
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        // Built by scripts/test.d/50-csharp.sh from bindings/csharp/testing/native-thread.c.
        [DllImport("raptoken_cs_native_thread", CallingConvention = CallingConvention.Cdecl)]
        private static extern int raptoken_cs_fetch_on_native_thread(ClientHandle client);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void AbandonClientWithCallback()
        {
            using (var o = TestEnv.Options(TestEnv.Basic()).WithLogCallback((level, line) => { }))
                new RaptokenClient(o).GetToken();
        }

        private static void Collect()
        {
            for (int i = 0; i < 2; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }

        private static ClientHandle Handle(RaptokenClient client) =>
            (ClientHandle)typeof(RaptokenClient).GetField("handle", BindingFlags.NonPublic | BindingFlags.Instance).GetValue(client);

        private static LogSink Sink(RaptokenClient client) => Handle(client).LogSink;
    }
}
