using Resilience.CircuitBreaking;
using Resilience.RateLimiting;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience;

/// <summary>
/// Runs an operation through the configured strategies in the one fixed order, outermost first:
/// rate limiter → total timeout → retry → circuit breaker → attempt timeout → operation (fallback wraps it all, in
/// <see cref="ResiliencePipeline{TResult}"/>). Every layer passes outcomes, not exceptions, and completes synchronously
/// when the operation does, so the success path neither allocates nor builds an async state machine.
/// </summary>
internal sealed class PipelineEngine
{
    private readonly RateLimiterStrategy? _limiter;
    private readonly TimeoutStrategy? _totalTimeout;
    private readonly RetryStrategy? _retry;
    private readonly CircuitBreaker? _breaker;
    private readonly TimeoutStrategy? _attemptTimeout;

    public PipelineEngine(
        string name,
        RateLimiterStrategy? limiter,
        TimeoutStrategy? totalTimeout,
        RetryStrategy? retry,
        CircuitBreaker? breaker,
        TimeoutStrategy? attemptTimeout)
    {
        Name = name;
        _limiter = limiter;
        _totalTimeout = totalTimeout;
        _retry = retry;
        _breaker = breaker;
        _attemptTimeout = attemptTimeout;
    }

    public string Name { get; }

    public CircuitBreaker? CircuitBreaker => _breaker;

    public RetryStrategy? Retry => _retry;

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        var call = new Call<TState, TResult>(this, operation, state, shouldHandleResult);
        return _limiter is null
            ? TotalTimeout(call, cancellationToken)
            : _limiter.ExecuteCoreAsync(static (c, ct) => TotalTimeout(c, ct), call, cancellationToken);
    }

    private static ValueTask<Outcome<TResult>> TotalTimeout<TState, TResult>(Call<TState, TResult> call, CancellationToken cancellationToken)
    {
        var engine = call.Engine;
        if (engine._totalTimeout is not { } timeout)
        {
            return RetryLayer(call, cancellationToken);
        }

        // The layers inside learn when the total timeout fires: the retry never starts a delay that ends after it, and
        // the attempt timeout arms its one timer for whichever limit comes first — so with an attempt timeout the total
        // needs no timer of its own, and the success path pays for one timer instead of two.
        if (engine._attemptTimeout is not null)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(new OperationCanceledException(cancellationToken)));
            }

            return RetryLayer(call.WithDeadline(timeout.DeadlineFromNow()), cancellationToken);
        }

        if (engine._retry is not null)
        {
            call = call.WithDeadline(timeout.DeadlineFromNow());
        }

        return timeout.ExecuteCoreAsync(static (c, ct) => RetryLayer(c, ct), call, cancellationToken);
    }

    private static ValueTask<Outcome<TResult>> RetryLayer<TState, TResult>(Call<TState, TResult> call, CancellationToken cancellationToken) =>
        call.Engine._retry is { } retry
            ? retry.ExecuteCoreAsync(static (c, ct) => Breaker(c, ct), call, call.Deadline, cancellationToken)
            : Breaker(call, cancellationToken);

    private static ValueTask<Outcome<TResult>> Breaker<TState, TResult>(Call<TState, TResult> call, CancellationToken cancellationToken) =>
        call.Engine._breaker is { } breaker
            ? breaker.ExecuteCoreAsync(static (c, ct) => AttemptTimeout(c, ct), call, call.ShouldHandleResult, cancellationToken)
            : AttemptTimeout(call, cancellationToken);

    private static ValueTask<Outcome<TResult>> AttemptTimeout<TState, TResult>(Call<TState, TResult> call, CancellationToken cancellationToken) =>
        call.Engine._attemptTimeout is { } timeout
            ? timeout.ExecuteCoreAsync(static (c, ct) => Operation(c, ct), call, call.Engine._totalTimeout, call.Deadline, cancellationToken)
            : Operation(call, cancellationToken);

    private static ValueTask<Outcome<TResult>> Operation<TState, TResult>(Call<TState, TResult> call, CancellationToken cancellationToken) =>
        OutcomeInvoker.InvokeAsync(call.Operation, call.State, cancellationToken);

    /// <summary>Everything one execution needs, passed by value through the layers so no closure is allocated.</summary>
    private readonly struct Call<TState, TResult>
    {
        public Call(PipelineEngine engine, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult)
        {
            Engine = engine;
            Operation = operation;
            State = state;
            ShouldHandleResult = shouldHandleResult;
            Deadline = RetryStrategy.NoDeadline;
        }

        private Call(in Call<TState, TResult> call, long deadline)
        {
            this = call;
            Deadline = deadline;
        }

        public PipelineEngine Engine { get; }

        public Func<TState, CancellationToken, ValueTask<TResult>> Operation { get; }

        public TState State { get; }

        public Func<TResult, bool>? ShouldHandleResult { get; }

        /// <summary>When the total timeout fires, in <see cref="Time.MonotonicClock"/> time; <see cref="RetryStrategy.NoDeadline"/> without one.</summary>
        public long Deadline { get; }

        public Call<TState, TResult> WithDeadline(long deadline) => new(in this, deadline);
    }
}
