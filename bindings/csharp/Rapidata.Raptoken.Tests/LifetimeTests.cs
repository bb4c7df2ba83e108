using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    [TestFixture]
    public class LifetimeTests
    {
        [Test]
        public void EveryCallAfterDisposeThrowsObjectDisposed()
        {
            var client = TestEnv.Client(TestEnv.Basic());
            string token = client.GetToken(); // a warm memo must not outlive Dispose either
            client.RetryNow();
            long freed = ClientHandle.Released;
            client.Dispose();
            Assert.AreEqual(freed + 1, ClientHandle.Released);
            Assert.Throws<ObjectDisposedException>(() => client.GetToken());
            Assert.Throws<ObjectDisposedException>(() => client.GetTokenInfo(TimeSpan.Zero));
            Assert.Throws<ObjectDisposedException>(() => client.Invalidate(token));
            Assert.Throws<ObjectDisposedException>(() => client.RetryNow());
            client.Dispose(); // idempotent
            Assert.AreEqual(freed + 1, ClientHandle.Released);
        }

        [Test]
        public void DisposedOptionsThrowObjectDisposed()
        {
            var options = new RaptokenOptions();
            options.Dispose();
            Assert.Throws<ObjectDisposedException>(() => options.WithScope("openid"));
            Assert.Throws<ObjectDisposedException>(() => options.WithConnectTimeout(TimeSpan.FromSeconds(1)));
            Assert.Throws<ObjectDisposedException>(() => new RaptokenClient(options));
            options.Dispose();
        }

        [Test]
        public void ClientOutlivesItsOptions()
        {
            var c = TestEnv.Basic();
            var options = TestEnv.Options(c);
            using (var client = new RaptokenClient(options))
            {
                options.Dispose();
                Assert.IsNotEmpty(client.GetToken());
            }
        }

        [Test]
        public void DisposeWhileOtherThreadsUseTheClient()
        {
            var client = TestEnv.Client(TestEnv.Basic());
            client.GetToken();
            long freed = ClientHandle.Released;
            const int threads = 8;
            var calls = new int[threads];
            var outcomes = new Exception[threads];
            var started = new CountdownEvent(threads);
            var workers = new List<Thread>();
            for (int i = 0; i < threads; i++)
            {
                int n = i;
                var t = new Thread(() =>
                {
                    started.Signal();
                    try
                    {
                        // The native path (not the memo), so calls are in flight during Dispose.
                        while (true)
                        {
                            client.GetTokenInfo(TimeSpan.Zero);
                            client.Invalidate("stale-token");
                            calls[n]++;
                        }
                    }
                    catch (Exception e)
                    {
                        outcomes[n] = e;
                    }
                });
                workers.Add(t);
                t.Start();
            }
            Assert.IsTrue(started.Wait(TimeSpan.FromSeconds(10)));
            // Let every thread complete some calls, then pull the client out from under them.
            var until = DateTime.UtcNow.AddSeconds(5);
            while (Array.Exists(calls, n => n < 100) && DateTime.UtcNow < until) Thread.Yield();
            client.Dispose();
            foreach (var t in workers) Assert.IsTrue(t.Join(TimeSpan.FromSeconds(10)), "a worker hung");
            for (int i = 0; i < threads; i++)
            {
                Assert.That(calls[i], Is.GreaterThan(0));
                Assert.IsInstanceOf<ObjectDisposedException>(outcomes[i], "thread " + i + ": " + outcomes[i]);
            }
            Assert.AreEqual(freed + 1, ClientHandle.Released, "freed exactly once, after the last call");
        }

        [Test]
        public void UndisposedClientsAreFreedByTheFinalizer()
        {
            const int count = 3;
            long freed = ClientHandle.Released;
            var refs = MakeAndDropClients(count);
            for (int i = 0; i < 50 && ClientHandle.Released < freed + count; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Assert.That(ClientHandle.Released, Is.GreaterThanOrEqualTo(freed + count));
            foreach (var r in refs) Assert.IsFalse(r.IsAlive);
        }

        // Not inlined, so no reference to the clients survives in the caller's frame.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static List<WeakReference> MakeAndDropClients(int count)
        {
            var refs = new List<WeakReference>();
            for (int i = 0; i < count; i++)
            {
                var client = TestEnv.Client(TestEnv.Basic());
                Assert.IsNotEmpty(client.GetToken());
                refs.Add(new WeakReference(client));
            }
            return refs;
        }
    }
}
