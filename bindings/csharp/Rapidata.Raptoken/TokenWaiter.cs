using System;
using System.Threading;
using System.Threading.Tasks;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// One caller's wait for a shared fetch (see RaptokenClient.Async.cs): it
    /// completes when the fetch finishes, or is cancelled when the caller's token fires.
    /// Cancelling ends only this wait; the fetch goes on for everyone else. Continuations of the
    /// task run asynchronously, so callers' code never runs on the fetch thread or inside
    /// <see cref="CancellationTokenSource.Cancel()"/>.
    /// </summary>
    internal sealed class TokenWaiter<T> : TaskCompletionSource<T>
    {
        private readonly Func<RaptokenToken, T> select;
        private readonly CancellationToken cancellationToken;
        private CancellationTokenRegistration registration;

        internal TokenWaiter(Func<RaptokenToken, T> select, CancellationToken cancellationToken)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            this.select = select;
            this.cancellationToken = cancellationToken;
            if (cancellationToken.CanBeCanceled)
                registration = cancellationToken.Register(s => ((TokenWaiter<T>)s).Cancel(), this);
        }

        /// <summary>Completes this wait when <paramref name="fetch"/> does, unless something else did first.</summary>
        internal void Watch(Task<RaptokenToken> fetch)
        {
            fetch.ContinueWith((t, s) => ((TokenWaiter<T>)s).Complete(t), this,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        private void Cancel() => TrySetCanceled(cancellationToken);

        private void Complete(Task<RaptokenToken> fetch)
        {
            bool won = fetch.Status == TaskStatus.RanToCompletion
                ? TrySetResult(select(fetch.Result))
                : TrySetException(fetch.Exception.InnerExceptions);
            // Not from inside the cancellation callback (Cancel never gets here), where Dispose
            // would wait for the callback itself.
            if (won) registration.Dispose();
        }
    }
}
