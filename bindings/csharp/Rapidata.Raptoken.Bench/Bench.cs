using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Bench
{
    /// <summary>
    /// Warm-path cost of getting a token, against the cheapest managed alternative: a lock around
    /// a cached string. Run under testing/with-oidc-server.sh (see bindings/csharp/README.md):
    ///   mono bench.exe [seconds per measurement, default 1]
    /// Reports ns per call per thread for 1 and 4 threads, and the ratio to the baseline.
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
                foreach (int threads in new[] { 1, 4 })
                {
                    double b = Measure(baseline, threads, seconds);
                    double m = Measure(memo, threads, seconds);
                    double n = Measure(native, threads, seconds);
                    Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                        "{0} thread(s): lock+cached string {1,7:F1} ns/call | GetToken() {2,7:F1} ns/call ({3:F2}x) | "
                        + "GetTokenInfo(0), native every call {4,7:F1} ns/call ({5:F2}x)",
                        threads, b, m, m / b, n, n / b));
                }
            }
            return sink == 42 ? 1 : 0; // keeps the results observable
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
