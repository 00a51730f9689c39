using Resilience.CircuitBreaking;
using Resilience.Reload;
using Resilience.Retry;

namespace Resilience;

/// <summary>
/// Strategies composed in one fixed order, for operations of any result type: the one way to run a call with retry,
/// timeouts, a circuit breaker and the rest. Built by <see cref="ResiliencePipelineBuilder"/>; thread-safe and meant to be shared.
/// </summary>
/// <remarks>
/// A first-try success that completes synchronously allocates nothing. Failures travel as <see cref="Outcome{TResult}"/>
/// between the strategies; the throwing methods throw once, at the end.
/// </remarks>
public sealed class ResiliencePipeline : IReloadablePipeline
{
    // Replaced by a configuration reload (DI-registered pipelines): read once per call, so a call runs on one engine.
    private PipelineEngine _engine;

    internal ResiliencePipeline(PipelineEngine engine) => _engine = engine;

    PipelineEngine IReloadablePipeline.Engine => Volatile.Read(ref _engine);

    void IReloadablePipeline.Reload(PipelineEngine engine) => Volatile.Write(ref _engine, engine);

    /// <summary>Gets the pipeline's name.</summary>
    public string Name => Volatile.Read(ref _engine).Name;

    /// <summary>Gets the pipeline's circuit breaker, if it has one.</summary>
    public CircuitBreaker? CircuitBreaker => Volatile.Read(ref _engine).Find<CircuitBreakerLayer>()?.Breaker;

    /// <summary>Gets the retry statistics, if the pipeline retries.</summary>
    public RetryStatistics? RetryStatistics => Volatile.Read(ref _engine).Find<RetryLayer>()?.Statistics;

    /// <summary>Lists the pipeline's layers in the order a call passes them, outermost first, with their options.</summary>
    /// <returns>One entry per layer the pipeline has; empty when it has none.</returns>
    /// <example><c>Assert.Equal(["TotalTimeout", "Retry"], pipeline.Describe().Select(l => l.Kind));</c></example>
    public IReadOnlyList<PipelineLayerDescriptor> Describe() => Volatile.Read(ref _engine).Describe(null);

    /// <summary>Runs <paramref name="operation"/> through the pipeline, passing <paramref name="state"/> so the delegate can be static.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation; it must observe the token it is given (the timeouts cancel it).</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The result.</returns>
    /// <exception cref="OperationCanceledException">The caller cancelled.</exception>
    /// <exception cref="Timeouts.OperationTimeoutException">A timeout of the pipeline fired.</exception>
    /// <exception cref="ExecutionRejectedException">A layer refused the call (e.g. <see cref="BrokenCircuitException"/>: the circuit is open).</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return Volatile.Read(ref _engine).ExecuteUnwrappedAsync(operation, state, null, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> through the pipeline.</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation; it must observe the token it is given.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The result.</returns>
    public ValueTask<TResult> ExecuteAsync<TResult>(Func<CancellationToken, ValueTask<TResult>> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteAsync(static (op, ct) => op(ct), operation, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> through the pipeline and returns the outcome instead of throwing.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation; it must observe the token it is given.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The result, or the failure (an open circuit costs no new exception).</returns>
    public ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return Volatile.Read(ref _engine).ExecuteAsync(operation, state, null, null, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> through the pipeline with the call's <paramref name="context"/>: its operation key and properties reach the layers, the callbacks and telemetry.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation; it reads its token from <see cref="ResilienceContext.CancellationToken"/> (the timeouts cancel it there).</param>
    /// <param name="context">The call's context, from <see cref="ResilienceContextPool"/>; its token is the caller's.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <returns>The result.</returns>
    /// <exception cref="OperationCanceledException">The caller cancelled.</exception>
    /// <exception cref="Timeouts.OperationTimeoutException">A timeout of the pipeline fired.</exception>
    /// <exception cref="ExecutionRejectedException">A layer refused the call (e.g. <see cref="BrokenCircuitException"/>).</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(Func<ResilienceContext, TState, ValueTask<TResult>> operation, ResilienceContext context, TState state)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(context);
        return OutcomeInvoker.Unwrap(Volatile.Read(ref _engine).ExecuteAsync(operation, state, context, null));
    }

    /// <summary>Runs <paramref name="operation"/> through the pipeline with the call's <paramref name="context"/> and returns the outcome instead of throwing.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation; it reads its token from <see cref="ResilienceContext.CancellationToken"/>.</param>
    /// <param name="context">The call's context, from <see cref="ResilienceContextPool"/>; its token is the caller's.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <returns>The result, or the failure (a refusal costs no new exception).</returns>
    public ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState, TResult>(Func<ResilienceContext, TState, ValueTask<TResult>> operation, ResilienceContext context, TState state)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(context);
        return Volatile.Read(ref _engine).ExecuteAsync(operation, state, context, null);
    }

    /// <summary>Runs <paramref name="operation"/>, which returns nothing, through the pipeline.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="operation">The operation; it must observe the token it is given (the timeouts cancel it).</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the operation does.</returns>
    /// <exception cref="OperationCanceledException">The caller cancelled.</exception>
    /// <exception cref="Timeouts.OperationTimeoutException">A timeout of the pipeline fired.</exception>
    /// <exception cref="ExecutionRejectedException">A layer refused the call (e.g. <see cref="BrokenCircuitException"/>: the circuit is open).</exception>
    public ValueTask ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask> operation, TState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return VoidOperation.Discard(ExecuteAsync(static (c, ct) => VoidOperation.InvokeAsync(c, ct), new VoidOperation.Async<TState>(operation, state), cancellationToken));
    }

    /// <summary>Runs <paramref name="operation"/>, which returns nothing, through the pipeline.</summary>
    /// <param name="operation">The operation; it must observe the token it is given.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the operation does.</returns>
    public ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteAsync(static (op, ct) => op(ct), operation, cancellationToken);
    }

#pragma warning disable RS0026 // The overloads differ by the operation's shape (Action or Func), so the optional token cannot make a call ambiguous.

    /// <summary>Runs a synchronous <paramref name="operation"/>, which returns nothing, through the pipeline (retry delays block the calling thread).</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="operation">The operation; timeouts can only stop it through the token it is given.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    public void Execute<TState>(Action<TState, CancellationToken> operation, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        Execute(static (c, ct) => VoidOperation.Invoke(c, ct), new VoidOperation.Sync<TState>(operation, state), cancellationToken);
    }

    /// <summary>Runs a synchronous <paramref name="operation"/> through the pipeline (retry delays block the calling thread).</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation; timeouts can only stop it through the token it is given.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The result.</returns>
    public TResult Execute<TState, TResult>(Func<TState, CancellationToken, TResult> operation, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return SyncBridge.Run(Volatile.Read(ref _engine), operation, state, null, cancellationToken);
    }
#pragma warning restore RS0026
}
