namespace Resilience.Hedging;

/// <summary>Which attempt of a hedged call the current code runs in, so an operation can pick its endpoint.</summary>
/// <remarks>
/// The operation's signature is the pipeline's (<c>(state, token)</c>), so the attempt number travels beside it, in the
/// attempt's execution context, like <see cref="System.Diagnostics.Activity.Current"/>. Each attempt sees its own
/// number; outside a hedging layer it is 0. <c>ExecuteHedgedAsync</c> reads it for you and passes the endpoint.
/// Like any ambient value it flows into everything the attempt calls: a pipeline with its own hedging layer starts
/// again from 0, but code run by a pipeline without one, inside another pipeline's hedged attempt, sees that attempt's
/// number.
/// </remarks>
public static class HedgingAttempt
{
    private static readonly AsyncLocal<int> Number = new();

    /// <summary>Gets the number of the attempt running now: 0 for the first (and outside hedging), 1 for the first hedged attempt, and so on.</summary>
    public static int Current => Number.Value;

    /// <summary>Runs <paramref name="attempt"/> of <paramref name="call"/> with <see cref="Current"/> set to <paramref name="attempt"/>.</summary>
    /// <remarks>An async method: the runtime restores the caller's execution context when it returns, so the number stays with this attempt.</remarks>
    internal static async Task<Outcome<TResult>> RunAsync<TState, TResult>(PipelineCall<TState, TResult> call, int attempt, CancellationToken cancellationToken)
    {
        Number.Value = attempt;
        return await call.NextAsync(cancellationToken).ConfigureAwait(false);
    }
}
