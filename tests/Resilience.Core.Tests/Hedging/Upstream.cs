using System.Collections.Concurrent;
using Resilience.Hedging;

namespace Resilience.Core.Tests.Hedging;

/// <summary>An operation whose attempts the test completes one by one, each seen by its hedging attempt number.</summary>
internal sealed class Upstream
{
    private readonly ConcurrentDictionary<int, Attempt> _attempts = new();

    public Attempt this[int number] => _attempts.GetOrAdd(number, static _ => new Attempt());

    /// <summary>Gets how many attempts have started.</summary>
    public int Started => _attempts.Values.Count(static a => a.Started.Task.IsCompleted);

    /// <summary>The operation: waits for the test to complete its attempt, or for its token (then <see cref="Attempt.Cancelled"/> completes).</summary>
    public async ValueTask<string> CallAsync(ResilienceContext context)
    {
        var cancellationToken = context.CancellationToken;
        var attempt = this[context.HedgedAttempt];
        attempt.Token = cancellationToken;
        attempt.Started.TrySetResult();
        try
        {
            return await attempt.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            attempt.Cancelled.TrySetResult();
            throw;
        }
    }

    internal sealed class Attempt
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<string> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken Token { get; set; }
    }
}
