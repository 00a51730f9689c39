using System.Diagnostics;
using System.Runtime.CompilerServices;
using Resilience.AdaptiveConcurrency;
using Resilience.AdaptiveThrottling;
using Resilience.CircuitBreaking;
using Resilience.FaultInjection;
using Resilience.Hedging;
using Resilience.RateLimiting;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience;

/// <summary>
/// The kinds of layer, outermost first: the one place the order is written. A call passes them in this order whatever
/// order the builder added them in; only the kinds a pipeline has are in its chain.
/// </summary>
/// <remarks>
/// Why this order: the fallback outermost, so it answers for every failure inside. The rate limiter outside the total
/// timeout, so queueing is not billed to the call. The adaptive concurrency limit inside the rate limiter (a call the rate
/// refuses never takes a slot) and outside the total timeout (its queue is not billed to the call either). The total timeout outside retry, so it bounds the retries and their
/// delays. Retry outside hedging, so a retry runs a whole hedged round (a backoff never swallows the hedge delay, and
/// hedges never multiply retries). Hedging and retry outside the breaker, so each attempt asks the breaker. Adaptive
/// throttling per attempt and outside the breaker: every retry and hedged copy is a request it counts, and one it
/// refuses never takes a breaker's probe. The adaptive concurrency limit placed per attempt inside throttling (a request
/// throttled locally never takes a slot) and outside the breaker (a refusal never reaches it, and an attempt's latency
/// is the dependency's, breaker and attempt timeout included). The attempt
/// timeout inside the breaker, so a timed-out attempt counts as a failure. Fault injection innermost, so an injected
/// fault meets every strategy a real one would. Custom layers sit at three named places (<see cref="CustomLayerPosition"/>).
/// A new kind is its folder plus one value here and one case in <see cref="LayerKinds.Dispatch"/>. A value is a slot, and
/// one kind's layer may have two: the adaptive concurrency limit's spec picks <see cref="AdaptiveConcurrency"/> or
/// <see cref="AdaptiveConcurrencyPerAttempt"/> from its options, and one case dispatches both.
/// </remarks>
internal enum LayerKind
{
    Fallback,
    CustomOuter,
    RateLimiter,
    AdaptiveConcurrency,
    TotalTimeout,
    Retry,
    Hedging,
    CustomAttempt,
    AdaptiveThrottling,
    AdaptiveConcurrencyPerAttempt,
    CircuitBreaker,
    AttemptTimeout,
    FaultInjection,
    CustomInner,
}

/// <summary>The table of kinds: their count, names and dispatch.</summary>
internal static class LayerKinds
{
    /// <summary>The number of kinds, i.e. of slots in a builder.</summary>
    public static readonly int Count = Enum.GetValues<LayerKind>().Length;

    /// <summary>The kinds in order, as <see cref="ResiliencePipeline.Describe"/> names them.</summary>
    public static readonly string[] Names = Enum.GetNames<LayerKind>();

    /// <summary>Where the custom position <paramref name="position"/> sits among the kinds.</summary>
    public static LayerKind Of(CustomLayerPosition position) => position switch
    {
        CustomLayerPosition.Outer => LayerKind.CustomOuter,
        CustomLayerPosition.Attempt => LayerKind.CustomAttempt,
        CustomLayerPosition.Inner => LayerKind.CustomInner,
        _ => throw new ArgumentOutOfRangeException(nameof(position), position, "Not a custom layer position."),
    };

    /// <summary>Whether a pipeline whose only layer is <paramref name="layer"/> runs it by <see cref="RunAlone"/>.</summary>
    public static bool RunsAlone(PipelineLayer layer) => layer is CircuitBreakerLayer or RetryLayer;

    /// <summary>
    /// Runs a pipeline's only layer straight around the operation and returns the operation's own result: nothing to wrap
    /// into an outcome and unwrap again on the way (a standalone breaker's or retry's success path). A kind opts in here.
    /// </summary>
    public static ValueTask<TResult> RunAlone<TState, TResult>(
        PipelineEngine engine, PipelineLayer layer, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken) => layer switch
    {
        CircuitBreakerLayer l => l.RunAlone(operation, state, shouldHandleResult, cancellationToken),
        RetryLayer l => l.RunAloneAsync(engine, operation, state, shouldHandleResult, cancellationToken),
        _ => throw new UnreachableException($"Layer {layer.GetType().Name} does not run alone."),
    };

    /// <summary>Enters <paramref name="layer"/> with <paramref name="inner"/>, the call one layer further in.</summary>
    /// <remarks>
    /// A type switch over sealed classes, not a generic virtual method: each case is one type-handle compare and a direct
    /// call, where a generic virtual call costs a runtime lookup per layer. Each kind's line here is its registration.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ValueTask<Outcome<TResult>> Dispatch<TState, TResult>(PipelineLayer layer, in PipelineCall<TState, TResult> inner, CancellationToken cancellationToken) => layer switch
    {
        RateLimiterLayer l => l.ExecuteAsync(in inner, cancellationToken),
        AdaptiveConcurrencyLayer l => l.ExecuteAsync(in inner, cancellationToken),
        TotalTimeoutLayer l => l.ExecuteAsync(in inner, cancellationToken),
        RetryLayer l => l.ExecuteAsync(in inner, cancellationToken),
        HedgingLayer l => l.ExecuteAsync(in inner, cancellationToken),
        AdaptiveThrottlingLayer l => l.ExecuteAsync(in inner, cancellationToken),
        CircuitBreakerLayer l => GateRun.Run(l, new ChainNext<TState, TResult>(in inner), inner.ShouldHandleResult, cancellationToken),
        AttemptTimeoutLayer l => l.ExecuteAsync(in inner, cancellationToken),
        FaultInjectionLayer l => l.ExecuteAsync(in inner, cancellationToken),
        CustomLayer l => l.ExecuteAsync(in inner, cancellationToken),
        _ => throw new UnreachableException($"Layer {layer.GetType().Name} has no case in the dispatch."),
    };
}
