using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Rapidata.Raptoken
{
    // The async methods. The native call stays blocking; what is async is the wait for it:
    //
    // - A hit (the memo serves) completes synchronously: the memo holds a completed Task made
    //   once per token, so a warm call allocates nothing and makes no native call.
    // - A miss runs the native call on one of the binding's own threads (FetchThreads, never a
    //   pool thread), as a "flight" shared by every caller that misses while it runs. Each caller
    //   waits through its own TokenWaiter, so cancelling one caller ends that caller's wait only.
    // - Refresh-ahead never blocks: past the refresh instant the library renews on a thread of
    //   its own and answers every call, the flight's included, with the current token at once.
    public sealed partial class RaptokenClient
    {
        // Flights in progress, one per (minValidMs, generation). Guarded by itself; only misses
        // take the lock.
        private readonly List<Flight> flights = new List<Flight>();

        private static readonly Func<RaptokenToken, string> TokenValue = t => t.Value;
        private static readonly Func<RaptokenToken, RaptokenToken> Itself = t => t;

        /// <summary>
        /// The current access token, as <see cref="GetToken"/>, without blocking the calling
        /// thread. A warm call completes synchronously (no thread hop, no allocation, no native
        /// call). Otherwise one fetch per client runs on a thread of the binding's own (not a
        /// thread-pool thread) and every concurrent caller awaits it; it ends within the
        /// client's deadline (<see cref="RaptokenOptions.WithDeadline"/>, 30 s by default).
        /// Cancelling <paramref name="cancellationToken"/> ends this caller's wait with an
        /// <see cref="OperationCanceledException"/> at once; the fetch itself completes for
        /// every other caller (the native call cannot be interrupted). A token already
        /// cancelled gives a cancelled task, as in the rest of .NET.
        /// </summary>
        public Task<string> GetTokenAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            ThrowIfDisposed();
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<string>(cancellationToken);
            var m = Volatile.Read(ref memo);
            if (m != null && m.Serves(Interlocked.Read(ref generation), 0))
            {
                memoHits.Add();
                return m.TokenTask;
            }
            return Wait(0, TokenValue, cancellationToken);
        }

        /// <summary>
        /// As <see cref="GetTokenInfo"/> (a token valid at least <paramref name="minValid"/> more,
        /// with its expiry), without blocking the calling thread; waiting and cancellation as in
        /// <see cref="GetTokenAsync"/>. Completes synchronously, without allocating, while the
        /// current token stays unrenewed for longer than <paramref name="minValid"/>.
        /// </summary>
        public Task<RaptokenToken> GetTokenInfoAsync(TimeSpan minValid, CancellationToken cancellationToken = default(CancellationToken))
        {
            uint ms = RaptokenOptions.Milliseconds(minValid, nameof(minValid));
            ThrowIfDisposed();
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<RaptokenToken>(cancellationToken);
            var m = Volatile.Read(ref memo);
            if (m != null && m.Serves(Interlocked.Read(ref generation), ms))
            {
                memoHits.Add();
                return m.InfoTask;
            }
            return Wait(ms, Itself, cancellationToken);
        }

        /// <summary>Flights started since the client was created (for the tests).</summary>
        internal long FlightsStarted => Interlocked.Read(ref flightsStarted);

        /// <summary>Calls the memo answered (for the tests: the rest of Stats().CacheHits are the library's).</summary>
        internal long MemoHits => memoHits.Sum();

        private long flightsStarted;

        private Task<T> Wait<T>(uint minValidMs, Func<RaptokenToken, T> select, CancellationToken cancellationToken)
        {
            ThrowIfInLogCallback();
            long gen = Interlocked.Read(ref generation);
            Flight flight = null, started = null;
            lock (flights)
            {
                // A flight from before an Invalidate may bring the invalidated token: not joined.
                foreach (var f in flights)
                    if (f.MinValidMs == minValidMs && f.Generation == gen) { flight = f; break; }
                if (flight == null) flight = started = AddFlight(minValidMs, gen);
            }
            // Watch before starting, so a flight that ends at once still reaches this waiter.
            var waiter = new TokenWaiter<T>(select, cancellationToken);
            waiter.Watch(flight.Done.Task);
            if (started != null) Launch(started);
            return waiter.Task;
        }

        // Under the flights lock.
        private Flight AddFlight(uint minValidMs, long gen)
        {
            var f = new Flight(minValidMs, gen);
            flights.Add(f);
            Interlocked.Increment(ref flightsStarted);
            return f;
        }

        private void Launch(Flight f) => FetchThreads.Run(() =>
        {
            RaptokenToken result = null;
            Exception error = null;
            try
            {
                ThrowIfDisposed();
                result = Fetch(f.MinValidMs);
            }
            catch (Exception e)
            {
                error = e;
            }
            // Out of the list first: a caller that finds a flight finds one still running.
            lock (flights) flights.Remove(f);
            if (error == null) f.Done.TrySetResult(result);
            else f.Done.TrySetException(error);
        });

        private sealed class Flight
        {
            internal readonly uint MinValidMs;
            internal readonly long Generation;
            // Continuations run synchronously on the fetch thread: they are only the waiters'
            // Complete, which hands each caller's continuation on to the pool.
            internal readonly TaskCompletionSource<RaptokenToken> Done = new TaskCompletionSource<RaptokenToken>();

            internal Flight(uint minValidMs, long generation)
            {
                MinValidMs = minValidMs;
                Generation = generation;
            }
        }
    }
}
