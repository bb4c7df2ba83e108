using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Bench
{
    /// <summary>
    /// Warm-path cost of getting a token, against the cheapest managed alternative: a lock around
    /// a cached string. Run under testing/with-oidc-server.sh (see bindings/csharp/README.md):
    ///   mono bench.exe [seconds per measurement, default 1]
    /// Reports ns per call per thread for 1 and 4 threads, and the ratio to the baseline; then
    /// warm GetTokenAsync() against GetToken() (same run), and the thread pool during a cold-start
    /// burst with the token response held back: blocking GetToken() on pool threads (what
    /// BearerTokenHandler did before GetTokenAsync) against GetTokenAsync().
    /// </summary>
    public static class Program
    {
        private static readonly object Gate = new object();
        private static string cached;
        private static long sink;

        public static int Main(string[] args)
        {
            double seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 1.0;
            string issuer = Environment.GetEnvironmentVariable("RAPTOKEN_TEST_ISSUER");
            string ca = Environment.GetEnvironmentVariable("RAPTOKEN_TEST_CA_FILE");
            string id = Environment.GetEnvironmentVariable("RAPTOKEN_BENCH_CLIENT") ?? "basic-63";
            string secret = Environment.GetEnvironmentVariable("RAPTOKEN_BENCH_SECRET") ?? "secret-basic-63";
            if (issuer == null || ca == null)
            {
                Console.Error.WriteLine("run under testing/with-oidc-server.sh");
                return 2;
            }

            using (var options = new RaptokenOptions().WithIssuer(issuer).WithCaFile(ca).WithClientId(id).WithClientSecret(secret))
            using (var client = new RaptokenClient(options))
            {
                cached = client.GetToken(); // warm
                Func<string> baseline = () => { lock (Gate) return cached; };
                Func<string> memo = client.GetToken;
                Func<string> native = () => client.GetTokenInfo(TimeSpan.Zero).Value;

                Console.WriteLine("runtime: Mono " + MonoVersion() + ", " + Environment.ProcessorCount + " cores, "
                                  + seconds.ToString(CultureInfo.InvariantCulture) + " s per measurement");
                Func<string> warmAsync = () => client.GetTokenAsync().GetAwaiter().GetResult();
                var syncNs = new double[2];
                int row = 0;
                foreach (int threads in new[] { 1, 4 })
                {
                    double b = Measure(baseline, threads, seconds);
                    double m = Measure(memo, threads, seconds);
                    double n = Measure(native, threads, seconds);
                    syncNs[row++] = m;
                    Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                        "{0} thread(s): lock+cached string {1,7:F1} ns/call | GetToken() {2,7:F1} ns/call ({3:F2}x) | "
                        + "GetTokenInfo(0), native every call {4,7:F1} ns/call ({5:F2}x)",
                        threads, b, m, m / b, n, n / b));
                }
                row = 0;
                foreach (int threads in new[] { 1, 4 })
                {
                    double m = syncNs[row++];
                    double a = Measure(warmAsync, threads, seconds);
                    Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                        "async {0} thread(s): GetToken() {1,7:F1} ns/call | GetTokenAsync() {2,7:F1} ns/call ({3:F2}x)",
                        threads, m, a, a / m));
                }
            }
            Burst(issuer, ca);
            return sink == 42 ? 1 : 0; // keeps the results observable
        }

        /// <summary>
        /// 200 callers on a cold client while the test server holds token responses back (its
        /// slow-* clients and POST /delay): the peak number of busy pool threads above the
        /// baseline, and how long a trivial work item queued to the pool mid-burst waits to run
        /// (other requests of the program need the pool too). Blocking GetToken() runs on pool
        /// threads, as in a handler that calls it; GetTokenAsync() is awaited from pool threads.
        /// </summary>
        private static void Burst(string issuer, string ca)
        {
            string admin = Environment.GetEnvironmentVariable("RAPTOKEN_TEST_ADMIN");
            if (admin == null) return;
            const int Callers = 200, HeldMs = 1000;
            const string Id = "slow-15";
            Func<RaptokenClient> cold = () =>
            {
                using (var o = new RaptokenOptions().WithIssuer(issuer).WithCaFile(ca).WithClientId(Id).WithClientSecret("secret-" + Id))
                    return new RaptokenClient(o);
            };
            using (var web = new WebClient()) web.UploadString(admin + "/delay?ms=" + HeldMs, "POST", "");
            try
            {
                // Async first: the blocking run leaves extra pool threads behind, idle but counted
                // as available afterwards, so the order does not flatter either.
                var after = OneBurst(cold, c => Task.Run(() => c.GetTokenAsync()), Callers);
                var before = OneBurst(cold, c => Task.Run(() => c.GetToken()), Callers);
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "burst: {0} callers on a cold client, token response held {1} ms: busy pool threads +{2} blocking GetToken() | "
                    + "+{3} GetTokenAsync() ; pool latency for other work {4:F1} ms | {5:F1} ms",
                    Callers, HeldMs, before.Item1, after.Item1, before.Item2, after.Item2));
            }
            finally
            {
                using (var web = new WebClient()) web.UploadString(admin + "/delay?ms=0", "POST", "");
            }
        }

        private static Tuple<int, double> OneBurst(Func<RaptokenClient> cold, Func<RaptokenClient, Task<string>> call, int callers)
        {
            using (var client = cold())
            {
                int baseline = BusyPoolThreads(), peak = baseline;
                var tasks = Enumerable.Range(0, callers).Select(_ => call(client)).ToArray();
                Thread.Sleep(200); // the burst is under way (the response is held 1 s)
                var probeQueued = Stopwatch.StartNew();
                var probe = Task.Run(() => probeQueued.Elapsed.TotalMilliseconds);
                var all = Task.WhenAll(tasks);
                while (!all.IsCompleted)
                {
                    peak = Math.Max(peak, BusyPoolThreads());
                    all.Wait(5);
                }
                foreach (var t in tasks) sink += t.Result.Length;
                return Tuple.Create(peak - baseline, probe.Result);
            }
        }

        private static int BusyPoolThreads()
        {
            ThreadPool.GetMaxThreads(out int max, out _);
            ThreadPool.GetAvailableThreads(out int available, out _);
            return max - available;
        }

        /// <summary>Mean ns per call per thread, <paramref name="threads"/> threads calling for the given time.</summary>
        private static double Measure(Func<string> call, int threads, double seconds)
        {
            for (int i = 0; i < 20000; i++) sink += call().Length; // JIT and caches
            var counts = new long[threads];
            var start = new Barrier(threads + 1);
            var stop = 0;
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                int me = t;
                workers[t] = new Thread(() =>
                {
                    long n = 0, local = 0;
                    start.SignalAndWait();
                    while (Volatile.Read(ref stop) == 0)
                    {
                        for (int k = 0; k < 1000; k++) local += call().Length;
                        n += 1000;
                    }
                    counts[me] = n;
                    Interlocked.Add(ref sink, local);
                });
                workers[t].Start();
            }
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            Thread.Sleep(TimeSpan.FromSeconds(seconds));
            Volatile.Write(ref stop, 1);
            foreach (var w in workers) w.Join();
            double elapsedNs = clock.Elapsed.TotalMilliseconds * 1e6;
            long total = 0;
            foreach (var c in counts) total += c;
            return elapsedNs * threads / total;
        }

        private static string MonoVersion()
        {
            var type = Type.GetType("Mono.Runtime");
            var display = type?.GetMethod("GetDisplayName",
                System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static);
            return display != null ? (string)display.Invoke(null, null) : Environment.Version.ToString();
        }
    }
}
