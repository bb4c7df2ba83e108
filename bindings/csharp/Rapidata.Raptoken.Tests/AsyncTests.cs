using System;
using System.Diagnostics;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>
    /// GetTokenAsync / GetTokenInfoAsync and BearerTokenHandler during a stalled token request:
    /// the real test server behind a StallingFront that holds the request until the test releases
    /// it. Every wait is bounded; the stall ends when the test says, so nothing races a timer.
    /// </summary>
    [TestFixture]
    public class AsyncTests
    {
        private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

        private static int BusyPoolThreads()
        {
            ThreadPool.GetMaxThreads(out int max, out _);
            ThreadPool.GetAvailableThreads(out int available, out _);
            return max - available;
        }

        private static double Ms(long stopwatchTicks) => stopwatchTicks * 1000.0 / Stopwatch.Frequency;

        /// <summary>The Stopwatch instant <paramref name="task"/> completes, seen by a continuation as an awaiter would.</summary>
        private static Task<long> CompletionInstant(Task task) =>
            task.ContinueWith(_ => Stopwatch.GetTimestamp(), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        [Test]
        public void TwoHundredColdCallersShareOneRequestWithoutTakingPoolThreads()
        {
            var c = TestEnv.Basic();
            using (var front = new StallingFront())
            using (var client = front.Client(c))
            {
                int baseline = BusyPoolThreads();
                var tasks = Enumerable.Range(0, 200).Select(_ => client.GetTokenAsync()).ToArray();
                Assert.IsTrue(tasks.All(t => !t.IsCompleted), "a cold client cannot have a token yet");
                Assert.AreEqual(1, client.FlightsStarted, "one fetch for 200 callers");
                front.WaitForStalls(1, Bound);

                // The stall: 2 s with the request held, watching the pool. The old blocking
                // handler took one pool thread per waiting caller; now no caller takes one. The
                // bound of 2 leaves room for the runtime's own short pool work (timers, I/O).
                int peak = baseline;
                var stall = Stopwatch.StartNew();
                while (stall.Elapsed < TimeSpan.FromSeconds(2))
                {
                    peak = Math.Max(peak, BusyPoolThreads());
                    Thread.Sleep(10);
                }
                Assert.IsTrue(tasks.All(t => !t.IsCompleted), "no caller can finish while the request is held");
                front.Release();

                Assert.IsTrue(Task.WaitAll(tasks, Bound), "the callers did not finish after the release");
                Assert.LessOrEqual(peak - baseline, 2, "busy pool threads went from " + baseline + " to " + peak);
                Assert.AreEqual(1, tasks.Select(t => t.Result).Distinct().Count(), "200 equal tokens");
                TokenAssert.Same(client.GetToken(), tasks[0].Result);
                Assert.AreEqual(1, front.Connections);
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void CancellingOneWaiterEndsOnlyItsWait()
        {
            var c = TestEnv.Basic();
            using (var front = new StallingFront())
            using (var client = front.Client(c))
            using (var cts = new CancellationTokenSource())
            {
                var started = Stopwatch.StartNew();
                var tasks = Enumerable.Range(0, 10).Select(i => client.GetTokenAsync(i == 3 ? cts.Token : CancellationToken.None)).ToArray();
                var victimDone = CompletionInstant(tasks[3]);
                front.WaitForStalls(1, Bound);
                // Cancelled 100 ms after the calls (the scenario, not a race: the request is held).
                var untilCancel = TimeSpan.FromMilliseconds(100) - started.Elapsed;
                if (untilCancel > TimeSpan.Zero) Thread.Sleep(untilCancel);
                long cancelledAt = Stopwatch.GetTimestamp();
                cts.Cancel();

                Assert.IsTrue(victimDone.Wait(Bound), "the cancelled caller never finished");
                Assert.IsTrue(tasks[3].IsCanceled, "status " + tasks[3].Status);
                var e = Assert.Throws<AggregateException>(() => tasks[3].Wait());
                Assert.IsInstanceOf<OperationCanceledException>(e.InnerException);
                // From the cancel instant to the awaiter running: a pool hop, not a network wait.
                // 50 ms is generous for that even on a loaded 2-core machine; the request is still
                // held, so the wait cannot have ended any other way.
                double ms = Ms(victimDone.Result - cancelledAt);
                Assert.Less(ms, 50, "the cancelled caller took " + ms + " ms after the cancel");
                Assert.IsTrue(tasks.Where((t, i) => i != 3).All(t => !t.IsCompleted), "the others still wait for the held request");

                front.Release();
                var rest = tasks.Where((t, i) => i != 3).ToArray();
                Assert.IsTrue(Task.WaitAll(rest, Bound));
                Assert.AreEqual(1, rest.Select(t => t.Result).Distinct().Count());
                Assert.AreEqual(1, client.FlightsStarted, "the cancel did not restart or abandon the fetch");
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void HttpClientRequestCancelledDuringAStallReturnsPromptly()
        {
            var c = TestEnv.Basic();
            using (var api = new LocalApi())
            using (var front = new StallingFront())
            using (var client = front.Client(c))
            using (var http = new HttpClient(new BearerTokenHandler(client, new HttpClientHandler())))
            using (var cts = new CancellationTokenSource())
            {
                var response = http.GetAsync(api.Url + "me", cts.Token);
                var done = CompletionInstant(response);
                front.WaitForStalls(1, Bound);
                Assert.IsFalse(response.IsCompleted);

                long cancelledAt = Stopwatch.GetTimestamp();
                cts.Cancel();
                Assert.IsTrue(done.Wait(Bound), "the request did not end after the cancel");
                double ms = Ms(done.Result - cancelledAt);
                Assert.Less(ms, 100, "the request ended " + ms + " ms after the cancel");
                Assert.IsTrue(response.IsCanceled, "status " + response.Status);
                Assert.AreEqual(0, api.Seen.Count, "no request may go out without a token");

                // The fetch itself carries on and serves the next request.
                front.Release();
                using (var ok = http.GetAsync(api.Url + "me").Result)
                    Assert.AreEqual(System.Net.HttpStatusCode.OK, ok.StatusCode);
                TokenAssert.Same("Bearer " + client.GetToken(), api.Seen.Single().Item1);
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void WarmCallsCompleteSynchronouslyWithoutNativeCallsOrAllocation()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            using (var cts = new CancellationTokenSource())
            {
                string token = client.GetToken();
                var ct = cts.Token; // cancellable: a warm call must not register on it either
                for (int i = 0; i < 100; i++) // JIT
                {
                    client.GetTokenAsync(ct).GetAwaiter().GetResult();
                    client.GetTokenInfoAsync(TimeSpan.Zero, ct).GetAwaiter().GetResult();
                }
                var before = client.Stats();
                long memoBefore = client.MemoHits;

                const int N = 10000;
                long sink = 0;
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < N; i++)
                {
                    var t = client.GetTokenAsync(ct);
                    if (!t.IsCompleted) break;
                    sink += t.GetAwaiter().GetResult().Length;
                    var info = client.GetTokenInfoAsync(TimeSpan.Zero, ct);
                    if (!info.IsCompleted) break;
                    sink += info.GetAwaiter().GetResult().Value.Length;
                }
                allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

                Assert.AreEqual(2L * N * token.Length, sink, "every call completed synchronously with the token");
                Assert.AreEqual(0, allocated, "bytes allocated by " + 2 * N + " warm calls");
                var after = client.Stats();
                long memoCalls = client.MemoHits - memoBefore;
                Assert.AreEqual(2 * N, memoCalls, "the memo answered every call");
                Assert.AreEqual(before.CacheHits + memoCalls, after.CacheHits, "the library saw no call (no P/Invoke)");
                Assert.AreEqual(0, client.FlightsStarted);
            }
        }

        [Test]
        public void RenewalAheadOfExpiryDoesNotMakeAsyncCallersWait()
        {
            // A 3 s token: renewal starts 1.2 s after the request, the token is served until 2.7 s.
            // Past the refresh instant, with the renewal request held, async callers still get
            // the current token at once, as synchronous ones do from the library.
            var c = TestEnv.Short();
            using (var front = new StallingFront())
            using (var client = front.Client(c))
            {
                front.Release();
                var first = client.GetTokenInfo(TimeSpan.Zero);
                front.Hold();
                var wait = first.RefreshAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(50);
                Assert.That(wait, Is.LessThan(TimeSpan.FromSeconds(3)), "refresh instant too far away");
                if (wait > TimeSpan.Zero) Thread.Sleep(wait); // an instant the library promised, not a race

                var during = Enumerable.Range(0, 5).Select(_ => client.GetTokenAsync()).ToArray();
                // Until 2.7 s the library serves the current token to all but the renewer.
                Assert.IsTrue(Task.WaitAll(during, first.ExpiresAt - TimeSpan.FromMilliseconds(300) - DateTimeOffset.UtcNow),
                    "callers waited for the held renewal");
                foreach (var t in during) TokenAssert.Same(first.Value, t.Result, "during the renewal");
                front.WaitForStalls(1, Bound);

                front.Release();
                string renewed = null;
                var until = Stopwatch.StartNew();
                while (until.Elapsed < Bound && (renewed = client.GetTokenAsync().Result) == first.Value)
                    Thread.Sleep(10); // until the held renewal lands; bounded
                TokenAssert.Different(first.Value, renewed);
            }
            Assert.AreEqual(2, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void AFailedFetchFaultsEveryWaiterAndTheNextCallTriesAgain()
        {
            var c = TestEnv.Basic();
            var wrong = new TestCredentials(c.Id, "not-the-secret", c.Method);
            using (var client = TestEnv.Client(wrong))
            {
                var tasks = Enumerable.Range(0, 4).Select(_ => client.GetTokenAsync()).ToArray();
                var e = Assert.Throws<AggregateException>(() => Task.WaitAll(tasks, Bound));
                Assert.IsTrue(tasks.All(t => t.IsFaulted));
                var first = tasks[0].Exception.InnerException as RaptokenException;
                Assert.IsNotNull(first, e.ToString());
                Assert.AreEqual(RaptokenStatus.OAuth, first.Status);
                Assert.AreEqual("invalid_client", first.OAuthCode);
                Assert.AreEqual(1, client.FlightsStarted);

                var again = Assert.Throws<AggregateException>(() => client.GetTokenInfoAsync(TimeSpan.Zero).Wait(Bound));
                Assert.IsInstanceOf<RaptokenException>(again.InnerException);
                Assert.AreEqual(2, client.FlightsStarted);
            }
        }

        [Test]
        public void AlreadyCancelledTokenGivesACancelledTaskAndNoRequest()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                var cancelled = new CancellationToken(true);
                Assert.IsTrue(client.GetTokenAsync(cancelled).IsCanceled);
                Assert.IsTrue(client.GetTokenInfoAsync(TimeSpan.Zero, cancelled).IsCanceled);
                Assert.AreEqual(0, client.FlightsStarted);
            }
            Assert.AreEqual(0, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void AsyncInfoHonoursMinimumValidityAndTheMemo()
        {
            var c = TestEnv.Basic();
            using (var client = TestEnv.Client(c))
            {
                var info = client.GetTokenInfoAsync(TimeSpan.FromMinutes(10)).Result;
                Assert.That(info.ExpiresAt - DateTimeOffset.UtcNow, Is.GreaterThan(TimeSpan.FromMinutes(10)));
                Assert.AreEqual(TimeSpan.FromHours(1), info.Lifetime);
                // Now warm: the same object, synchronously.
                var again = client.GetTokenInfoAsync(TimeSpan.FromMinutes(10));
                Assert.IsTrue(again.IsCompleted);
                Assert.AreSame(info, again.Result);
                TokenAssert.Same(info.Value, client.GetTokenAsync().Result);
                Assert.Throws<ArgumentOutOfRangeException>(() => client.GetTokenInfoAsync(TimeSpan.FromMilliseconds(-1)));
                StringAssert.DoesNotContain(info.Value, info.ToString());
                StringAssert.StartsWith("RaptokenToken(expires ", info.ToString());
            }
            Assert.AreEqual(1, TestEnv.TokenRequests(c.Id));
        }

        [Test]
        public void DisposedClientThrowsFromTheAsyncMethods()
        {
            var client = TestEnv.Client(TestEnv.Basic());
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.GetTokenAsync());
            Assert.Throws<ObjectDisposedException>(() => client.GetTokenInfoAsync(TimeSpan.Zero));
        }

        [Test]
        public void TheFetchRunsOnTheBindingsOwnThreadNotAPoolThread()
        {
            // The log callback runs on the thread making the native call: it tells which one.
            var threads = new System.Collections.Concurrent.ConcurrentQueue<Tuple<bool, string>>();
            var c = TestEnv.Basic();
            using (var options = TestEnv.Options(c).WithLogCallback((level, line) =>
                       threads.Enqueue(Tuple.Create(Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name))))
            using (var client = new RaptokenClient(options))
            {
                // From a pool thread, as a request handler would call it.
                string token = Task.Run(() => client.GetTokenAsync()).Result;
                Assert.IsNotEmpty(token);
            }
            Assert.IsNotEmpty(threads, "the fetch logged nothing");
            foreach (var t in threads)
            {
                Assert.IsFalse(t.Item1, "the native call ran on a pool thread");
                Assert.AreEqual("raptoken fetch", t.Item2);
            }
        }
    }
}
