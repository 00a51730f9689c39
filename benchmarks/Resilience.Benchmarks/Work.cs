using System.Runtime.CompilerServices;

namespace Resilience.Benchmarks;

/// <summary>
/// The operation every benchmark runs: a call that cannot be inlined, so the bare baseline and the libraries pay for the
/// same delegate invocation and the same call, and the difference between rows is the library alone.
/// </summary>
internal static class Work
{
    public const int State = 41;

    /// <summary>The synchronous operation, as handed to every library and called bare by the baseline.</summary>
    public static readonly Func<int, int> Sync = static state => Compute(state);

    /// <summary>The asynchronous operation; its <see cref="ValueTask{TResult}"/> is completed synchronously.</summary>
    public static readonly Func<int, CancellationToken, ValueTask<int>> Async = static (state, _) => ComputeAsync(state);

    /// <summary>The synchronous operation in the shape the retry strategy's sync overload takes.</summary>
    public static readonly Func<int, CancellationToken, int> SyncWithToken = static (state, _) => Compute(state);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Compute(int state) => state + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ValueTask<int> ComputeAsync(int state) => new(state + 1);
}

/// <summary>An operation that fails its first attempt and succeeds on the retry, for the one-failure retry benchmarks.</summary>
internal sealed class FlakyOperation
{
    public const int FailedResult = -1;

    private readonly bool _throws;
    private int _calls;

    public FlakyOperation(bool throws) => _throws = throws;

    /// <summary>Odd calls fail (a -1 result or an <see cref="InvalidOperationException"/>), even calls succeed; each execution makes exactly two calls.</summary>
    public static readonly Func<FlakyOperation, CancellationToken, ValueTask<int>> Async = static (op, _) => op.Next();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<int> Next()
    {
        if ((++_calls & 1) == 0)
        {
            return Work.ComputeAsync(_calls);
        }

        return _throws ? throw new InvalidOperationException("transient") : new ValueTask<int>(FailedResult);
    }
}

/// <summary>Reads a <see cref="ValueTask{TResult}"/> the way a synchronous caller must: directly when complete, else by blocking.</summary>
internal static class ValueTaskExtensions
{
    public static T Wait<T>(this ValueTask<T> pending) =>
        pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
}
