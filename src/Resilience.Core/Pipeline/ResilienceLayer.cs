namespace Resilience;

/// <summary>
/// A layer of your own in a pipeline: wraps the rest of the call at a <see cref="CustomLayerPosition"/> of the fixed
/// order. Added with <c>AddLayer</c>; shared by every call, so it must be thread-safe.
/// </summary>
/// <example>
/// <code>
/// sealed class StopwatchLayer(ILogger logger) : ResilienceLayer
/// {
///     public override string Name => "stopwatch";
///
///     protected internal override async ValueTask&lt;Outcome&lt;TResult&gt;&gt; InvokeAsync&lt;TResult, TState&gt;(
///         Func&lt;ResilienceContext, TState, ValueTask&lt;Outcome&lt;TResult&gt;&gt;&gt; callback, ResilienceContext context, TState state)
///     {
///         var started = Stopwatch.GetTimestamp();
///         var outcome = await callback(context, state).ConfigureAwait(false);
///         logger.LogInformation("{Key} took {Elapsed}", context.OperationKey, Stopwatch.GetElapsedTime(started));
///         return outcome;
///     }
/// }
/// </code>
/// </example>
public abstract class ResilienceLayer
{
    /// <summary>Gets the layer's name, as <see cref="ResiliencePipeline.Describe"/> lists it.</summary>
    public abstract string Name { get; }

    /// <summary>Runs the rest of the call through <paramref name="callback"/>, once, several times, or not at all.</summary>
    /// <typeparam name="TResult">The operation's result type.</typeparam>
    /// <typeparam name="TState">The state <paramref name="callback"/> needs; pass it on unchanged.</typeparam>
    /// <param name="callback">The rest of the pipeline. It reads its token from <see cref="ResilienceContext.CancellationToken"/>: to cancel it, set a linked token there first (and restore it after).</param>
    /// <param name="context">The call's context (a call made without one gets one here).</param>
    /// <param name="state">The state to pass to <paramref name="callback"/>.</param>
    /// <returns>The outcome: report failures as outcomes (<see cref="Outcome.FromException{TResult}(Exception)"/>) rather than throwing; a throw is caught and becomes one.</returns>
    protected internal abstract ValueTask<Outcome<TResult>> InvokeAsync<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state);
}
