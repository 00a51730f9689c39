using Resilience.CircuitBreaking;
using Resilience.Fallback;
using Resilience.Reload;
using Resilience.Retry;

namespace Resilience;

/// <summary>
/// Strategies composed in one fixed order, the cached fallback outermost, for operations that return <typeparamref name="TResult"/>. Built by <see cref="ResiliencePipelineBuilder{TResult}"/>;
/// thread-safe and meant to be shared.
/// </summary>
/// <typeparam name="TResult">The type of the operation's result.</typeparam>
/// <remarks>
/// The cached fallback is keyed per call: <see cref="ExecuteWithFallbackAsync{TState}"/>'s key, or the context's
/// <see cref="ResilienceContext.OperationKey"/>; the other methods use one key for the whole pipeline, the empty string. A first-try success that completes synchronously allocates nothing.
/// </remarks>
public sealed class ResiliencePipeline<TResult> : IReloadablePipeline
{
    private const string DefaultFallbackKey = "";

    // Replaced by a configuration reload (DI-registered pipelines): read once per call, so a call runs on one engine.
    private PipelineEngine _engine;
    private readonly Func<TResult, bool>? _shouldHandleResult;
    private readonly CachedFallback<string, TResult>? _fallback;
    private readonly Func<Exception, bool>? _fallbackShouldHandle;

    internal ResiliencePipeline(PipelineEngine engine, Func<TResult, bool>? shouldHandleResult, CachedFallback<string, TResult>? fallback, Func<Exception, bool>? fallbackShouldHandle)
    {
        _engine = engine;
        _shouldHandleResult = shouldHandleResult;
        _fallback = fallback;
        _fallbackShouldHandle = fallbackShouldHandle;
    }

    PipelineEngine IReloadablePipeline.Engine => Volatile.Read(ref _engine);

    void IReloadablePipeline.Reload(PipelineEngine engine) => Volatile.Write(ref _engine, engine);

    /// <summary>Gets the pipeline's name.</summary>
    public string Name => Volatile.Read(ref _engine).Name;

    /// <summary>Gets the pipeline's circuit breaker, if it has one.</summary>
    public CircuitBreaker? CircuitBreaker => Volatile.Read(ref _engine).Find<CircuitBreakerLayer>()?.Breaker;

    /// <summary>Gets the retry statistics, if the pipeline retries.</summary>
    public RetryStatistics? RetryStatistics => Volatile.Read(ref _engine).Find<RetryLayer>()?.Statistics;

    /// <summary>Gets the cached fallback, if the pipeline has one.</summary>
    public CachedFallback<string, TResult>? Fallback => _fallback;

    /// <summary>Lists the pipeline's layers in the order a call passes them, outermost first (the fallback, when present), with their options.</summary>
    /// <returns>One entry per layer the pipeline has; empty when it has none.</returns>
    public IReadOnlyList<PipelineLayerDescriptor> Describe() =>
        Volatile.Read(ref _engine).Describe(_fallback is null ? null : new PipelineLayerDescriptor(LayerKinds.Names[(int)LayerKind.Fallback], _fallback.Options, _fallback.DescribeOptions().ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Runs <paramref name="operation"/> through the pipeline, passing <paramref name="state"/> so the delegate can be static.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="operation">The operation; it must observe the token it is given (the timeouts cancel it).</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The result, or the fallback's value when the call failed and one was available.</returns>
    public ValueTask<TResult> ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return _fallback is null
            ? Volatile.Read(ref _engine).ExecuteUnwrappedAsync(operation, state, _shouldHandleResult, cancellationToken)
            : OutcomeInvoker.Unwrap(ExecuteOutcomeAsync(operation, state, cancellationToken));
    }

    /// <summary>Runs <paramref name="operation"/> through the pipeline.</summary>
    /// <param name="operation">The operation; it must observe the token it is given.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The result, or the fallback's value.</returns>
    public ValueTask<TResult> ExecuteAsync(Func<CancellationToken, ValueTask<TResult>> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteAsync(static (op, ct) => op(ct), operation, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> through the pipeline and returns the outcome instead of throwing.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="operation">The operation; it must observe the token it is given.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The result (possibly the fallback's), or the failure.</returns>
    public ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return WithFallback(Volatile.Read(ref _engine).ExecuteAsync(operation, state, null, _shouldHandleResult, cancellationToken), DefaultFallbackKey, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> through the pipeline with the call's <paramref name="context"/>; the fallback is keyed by its <see cref="ResilienceContext.OperationKey"/>.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="operation">The operation; it reads its token from <see cref="ResilienceContext.CancellationToken"/> (the timeouts cancel it there).</param>
    /// <param name="context">The call's context, from <see cref="ResilienceContextPool"/>; its token is the caller's.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <returns>The result, or the fallback's value when the call failed and one was available.</returns>
    public ValueTask<TResult> ExecuteAsync<TState>(Func<ResilienceContext, TState, ValueTask<TResult>> operation, ResilienceContext context, TState state) =>
        OutcomeInvoker.Unwrap(ExecuteOutcomeAsync(operation, context, state));

    /// <summary>Runs <paramref name="operation"/> through the pipeline with the call's <paramref name="context"/> and returns the outcome instead of throwing.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="operation">The operation; it reads its token from <see cref="ResilienceContext.CancellationToken"/>.</param>
    /// <param name="context">The call's context, from <see cref="ResilienceContextPool"/>; its token is the caller's.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <returns>The result (possibly the fallback's, keyed by the context's operation key), or the failure.</returns>
    public ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState>(Func<ResilienceContext, TState, ValueTask<TResult>> operation, ResilienceContext context, TState state)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(context);
        var token = context.CancellationToken;
        return WithFallback(Volatile.Read(ref _engine).ExecuteAsync(operation, state, context, _shouldHandleResult), context.OperationKey ?? DefaultFallbackKey, token);
    }

    private ValueTask<Outcome<TResult>> WithFallback(ValueTask<Outcome<TResult>> pending, string key, CancellationToken cancellationToken)
    {
        if (_fallback is null)
        {
            return pending;
        }

        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            return new ValueTask<Outcome<TResult>>(Resolve(in outcome, key, cancellationToken).ToOutcome());
        }

        return AwaitOutcomeAsync(pending, key, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> through the pipeline with the cached fallback keyed by <paramref name="fallbackKey"/>, and says where the value came from.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="fallbackKey">What the value is, e.g. the resource's ID: the last good value of this key is served when the call fails.</param>
    /// <param name="operation">The operation; it must observe the token it is given.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The value with its source (live, cache or static), staleness and age.</returns>
    /// <exception cref="Exception">The original failure, when no fallback value was available.</exception>
    public ValueTask<FallbackValue<TResult>> ExecuteWithFallbackAsync<TState>(
        string fallbackKey, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fallbackKey);
        ArgumentNullException.ThrowIfNull(operation);
        var pending = Volatile.Read(ref _engine).ExecuteAsync(operation, state, null, _shouldHandleResult, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            var resolution = Resolve(in outcome, fallbackKey, cancellationToken);
            return resolution.ToOutcome().HasException
                ? ValueTask.FromException<FallbackValue<TResult>>(OutcomeInvoker.ForThrowing(resolution.ToOutcome().Exception!))
                : new ValueTask<FallbackValue<TResult>>(resolution.GetValueOrThrow());
        }

        return AwaitFallbackAsync(pending, fallbackKey, cancellationToken);
    }

    /// <summary>Runs a synchronous <paramref name="operation"/> through the pipeline (retry delays block the calling thread).</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="operation">The operation; timeouts can only stop it through the token it is given.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The result, or the fallback's value.</returns>
    public TResult Execute<TState>(Func<TState, CancellationToken, TResult> operation, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var outcome = SyncBridge.RunOutcome(Volatile.Read(ref _engine), operation, state, _shouldHandleResult, cancellationToken);
        return (_fallback is null ? outcome : Resolve(in outcome, DefaultFallbackKey, cancellationToken).ToOutcome()).GetResultOrThrow();
    }

    private async ValueTask<Outcome<TResult>> AwaitOutcomeAsync(ValueTask<Outcome<TResult>> pending, string key, CancellationToken cancellationToken)
    {
        var outcome = await pending.ConfigureAwait(false);
        return Resolve(in outcome, key, cancellationToken).ToOutcome();
    }

    private async ValueTask<FallbackValue<TResult>> AwaitFallbackAsync(ValueTask<Outcome<TResult>> pending, string key, CancellationToken cancellationToken)
    {
        var outcome = await pending.ConfigureAwait(false);
        return Resolve(in outcome, key, cancellationToken).GetValueOrThrow();
    }

    /// <summary>Stores a good result, or replaces a handled failure with the fallback's value when there is one.</summary>
    private Resolution Resolve(in Outcome<TResult> outcome, string key, CancellationToken cancellationToken)
    {
        if (!outcome.HasException)
        {
            var result = outcome.Result!;
            if (_shouldHandleResult is null || !_shouldHandleResult(result))
            {
                _fallback?.Store(key, result);
                return new Resolution(outcome, new FallbackValue<TResult>(result, FallbackSource.Live, TimeSpan.Zero, default));
            }
        }

        if (_fallback is not null && IsHandled(in outcome, cancellationToken) && _fallback.TryGetFallback(key, out var fallback))
        {
            _fallback.Options.OnFallback?.Invoke(new FallbackArguments(key, fallback.Source, fallback.Age, outcome.Exception, ResilienceContext.ForCall(cancellationToken)));
            return new Resolution(Outcome.FromResult(fallback.Value), fallback);
        }

        // No fallback: a failed result is still the caller's result, an exception surfaces as it was.
        return new Resolution(outcome, outcome.HasException ? default : new FallbackValue<TResult>(outcome.Result!, FallbackSource.Live, TimeSpan.Zero, default));
    }

    private bool IsHandled(in Outcome<TResult> outcome, CancellationToken cancellationToken)
    {
        if (!outcome.HasException)
        {
            return true;
        }

        var exception = outcome.Exception!;
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        return exception is ExecutionRejectedException || ((_fallbackShouldHandle ?? _fallback?.Options.ShouldHandle)?.Invoke(exception) ?? true);
    }

    private readonly struct Resolution
    {
        private readonly Outcome<TResult> _outcome;
        private readonly FallbackValue<TResult> _value;

        public Resolution(Outcome<TResult> outcome, FallbackValue<TResult> value)
        {
            _outcome = outcome;
            _value = value;
        }

        public Outcome<TResult> ToOutcome() => _outcome;

        public FallbackValue<TResult> GetValueOrThrow()
        {
            if (_outcome.HasException)
            {
                _outcome.GetResultOrThrow();
            }

            return _value;
        }
    }
}
