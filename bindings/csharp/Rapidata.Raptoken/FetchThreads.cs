using System;
using System.Collections.Generic;
using System.Threading;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// The threads the async methods make their blocking native calls on: threads of our own, not
    /// the thread pool's, so a fetch that waits for the network never takes a pool thread (at
    /// start-up, hundreds of requests each blocking a pool thread would starve the pool). A fetch
    /// is handed to an idle thread, or to a new one if none is idle; a thread with nothing to do
    /// for <see cref="IdleLifetime"/> exits. So a process has about as many as fetches run at
    /// once (one per client's miss; see RaptokenClient.Async.cs), and none when idle.
    /// </summary>
    internal static class FetchThreads
    {
        // Long enough that the short native calls made while a renewal is in flight reuse a
        // thread instead of creating one each; short enough that an idle program keeps none.
        private static readonly TimeSpan IdleLifetime = TimeSpan.FromSeconds(10);

        private static readonly object Gate = new object();
        private static readonly Queue<Action> Work = new Queue<Action>();
        private static int idle;    // threads in Monitor.Wait
        private static int started; // threads created so far, for the tests

        internal static int Started => Volatile.Read(ref started);

        /// <summary>Runs <paramref name="work"/> on one of these threads. It must not throw.</summary>
        internal static void Run(Action work)
        {
            bool spawn;
            lock (Gate)
            {
                Work.Enqueue(work);
                // Each idle thread takes one item; more items than idle threads need a new thread.
                spawn = Work.Count > idle;
                if (!spawn) Monitor.Pulse(Gate);
            }
            if (spawn)
            {
                Interlocked.Increment(ref started);
                new Thread(Loop) { IsBackground = true, Name = "raptoken fetch" }.Start();
            }
        }

        private static void Loop()
        {
            while (true)
            {
                Action work;
                lock (Gate)
                {
                    while (Work.Count == 0)
                    {
                        idle++;
                        bool woken = Monitor.Wait(Gate, IdleLifetime);
                        idle--;
                        if (!woken && Work.Count == 0) return;
                    }
                    work = Work.Dequeue();
                }
                work();
            }
        }
    }
}
