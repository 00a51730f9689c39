using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.CircuitBreaking;
using Resilience.RateLimiting;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience;

/// <summary>The strategy slots shared by <see cref="ResiliencePipelineBuilder"/> and <see cref="ResiliencePipelineBuilder{TResult}"/>.</summary>
/// <typeparam name="TBuilder">The concrete builder, returned by every method so calls chain.</typeparam>
/// <remarks>
/// Each slot is filled at most once, in any order: the pipeline always composes them outermost first as
/// fallback → rate limiter → total timeout → retry → circuit breaker → attempt timeout → operation.
/// The order is not the caller's to get wrong.
/// </remarks>
public abstract class ResiliencePipelineBuilderBase<TBuilder>
    where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
{
    private RateLimiter? _limiter;
    private TimeSpan? _totalTimeout;
    private RetryOptions? _retry;
    private CircuitBreaker? _breaker;
    private CircuitBreakerOptions? _breakerOptions;
    private TimeSpan? _attemptTimeout;

    private protected ResiliencePipelineBuilderBase(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>Gets the pipeline's name, used in metrics, logs and exception messages.</summary>
    public string Name { get; }

    /// <summary>Gets or sets the clock of every strategy the builder creates.</summary>
    /// <value>Default: <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets where the strategies log.</summary>
    /// <value>Default: <see cref="NullLoggerFactory.Instance"/> (no logging).</value>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Admits calls through <paramref name="limiter"/> (e.g. a <see cref="ConcurrencyLimiter"/> as a bulkhead); a rejected call fails with <see cref="RateLimiterRejectedException"/>.</summary>
    /// <param name="limiter">The limiter; the caller owns and disposes it.</param>
    /// <returns>This builder.</returns>
    public TBuilder AddRateLimiter(RateLimiter limiter)
    {
        ArgumentNullException.ThrowIfNull(limiter);
        _limiter = limiter;
        return (TBuilder)this;
    }

    /// <summary>Limits the whole call, retries and their delays included; when it fires the call fails with <see cref="OperationTimeoutException"/> of kind <see cref="TimeoutKind.Total"/>.</summary>
    /// <param name="timeout">The limit.</param>
    /// <returns>This builder.</returns>
    public TBuilder AddTotalTimeout(TimeSpan timeout)
    {
        ThrowIfNotPositive(timeout);
        _totalTimeout = timeout;
        return (TBuilder)this;
    }

    /// <summary>Retries failed attempts as <paramref name="options"/> say (backoff, jitter, predicates, budget).</summary>
    /// <param name="options">The retry options; validated here. An open circuit is never retried.</param>
    /// <returns>This builder.</returns>
    public TBuilder AddRetry(RetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        RetryOptionsValidator.ThrowIfInvalid(options);
        _retry = options;
        return (TBuilder)this;
    }

    /// <summary>Guards every attempt with <paramref name="breaker"/>, e.g. one shared per dependency from a <see cref="CircuitBreakerRegistry"/>.</summary>
    /// <param name="breaker">The breaker.</param>
    /// <returns>This builder.</returns>
    public TBuilder AddCircuitBreaker(CircuitBreaker breaker)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        _breaker = breaker;
        _breakerOptions = null;
        return (TBuilder)this;
    }

    /// <summary>Guards every attempt with a new breaker of its own, named after the pipeline.</summary>
    /// <param name="options">The breaker options; validated when the pipeline is built.</param>
    /// <returns>This builder.</returns>
    public TBuilder AddCircuitBreaker(CircuitBreakerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _breakerOptions = options;
        _breaker = null;
        return (TBuilder)this;
    }

    /// <summary>Limits each attempt; a timed-out attempt fails with <see cref="OperationTimeoutException"/> of kind <see cref="TimeoutKind.Attempt"/>, counts as a breaker failure and may be retried.</summary>
    /// <remarks>
    /// Timeouts stop an operation through the token it is given, so they act once it awaits: the timer is armed (for
    /// what is left of the limit) when the operation first yields. A synchronous stretch is never interrupted, which is
    /// also why an operation that completes synchronously costs no timer at all.
    /// </remarks>
    /// <param name="timeout">The limit.</param>
    /// <returns>This builder.</returns>
    public TBuilder AddAttemptTimeout(TimeSpan timeout)
    {
        ThrowIfNotPositive(timeout);
        _attemptTimeout = timeout;
        return (TBuilder)this;
    }

    private protected PipelineEngine BuildEngine<TResult>(Func<TResult, bool>? shouldHandleResult)
    {
        if (_totalTimeout is { } total && _attemptTimeout is { } attempt && attempt > total)
        {
            throw new InvalidOperationException(
                $"Pipeline '{Name}': the attempt timeout ({attempt}) must not exceed the total timeout ({total}).");
        }

        var logger = LoggerFactory.CreateLogger("Resilience.Pipeline." + Name);
        return new PipelineEngine(
            Name,
            _limiter is null ? null : new RateLimiterStrategy(_limiter, Name, logger),
            _totalTimeout is { } t ? new TimeoutStrategy(new TimeoutOptions { Name = Name, Timeout = t, Kind = TimeoutKind.Total }, TimeProvider, logger) : null,
            _retry is null ? null : new RetryStrategy(PipelineRetryOptions.For(_retry, Name, shouldHandleResult), TimeProvider, logger),
            _breaker ?? (_breakerOptions is null ? null : new CircuitBreaker(Name, _breakerOptions, TimeProvider, logger)),
            _attemptTimeout is { } a ? new TimeoutStrategy(new TimeoutOptions { Name = Name, Timeout = a, Kind = TimeoutKind.Attempt }, TimeProvider, logger) : null);
    }

    private static void ThrowIfNotPositive(TimeSpan timeout, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(timeout))] string? parameter = null)
    {
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(parameter, timeout, "A timeout must be positive.");
        }
    }
}
