using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Threading.RateLimiting;
using Resilience.CircuitBreaking;
using Resilience.RateLimiting;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience.Core.Tests;

/// <summary>
/// The tests written against the old standalone executors, run through the one front door: each of these is a
/// one-layer pipeline, so the tests now exercise exactly the layer a user's pipeline runs.
/// </summary>
internal static class OneLayer
{
    public static ILoggerFactory Factory(ILogger? logger) => logger is null ? NullLoggerFactory.Instance : new SingleLoggerFactory(logger);

    private sealed class SingleLoggerFactory(ILogger logger) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose()
        {
        }
    }
}

/// <summary>A retry alone: a pipeline with one retry layer.</summary>
internal sealed class RetryOnly
{
    private readonly ResiliencePipeline _pipeline;

    public RetryOnly(RetryOptions options, TimeProvider? timeProvider = null, ILogger? logger = null, Random? random = null, RetryStatistics? statistics = null, IMeterFactory? meterFactory = null)
    {
        Microsoft.Extensions.Options.OptionsValidationException? invalid = null;
        try
        {
            RetryOptionsValidator.ThrowIfInvalid(options);
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            invalid = e;
        }

        if (invalid is not null)
        {
            throw invalid;
        }

        var builder = new ResiliencePipelineBuilder(options.Name ?? RetryConstants.DefaultName)
        {
            TimeProvider = timeProvider ?? TimeProvider.System,
            LoggerFactory = OneLayer.Factory(logger),
            MeterFactory = meterFactory,
        };
        if (random is not null)
        {
            builder.Random = random;
        }

        builder.SetLayer(new RetryLayer.Spec(options, statistics));
        _pipeline = builder.Build();
        Statistics = _pipeline.RetryStatistics!;
        Name = options.Name ?? RetryConstants.DefaultName;
    }

    public string Name { get; }

    public RetryStatistics Statistics { get; }

    public ValueTask<TResult> ExecuteAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken = default) =>
        _pipeline.ExecuteAsync(operation, state, cancellationToken);

    public ValueTask<TResult> ExecuteAsync<TResult>(Func<CancellationToken, ValueTask<TResult>> operation, CancellationToken cancellationToken = default) =>
        _pipeline.ExecuteAsync(operation, cancellationToken);

    public ValueTask ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask> operation, TState state, CancellationToken cancellationToken = default) =>
        _pipeline.ExecuteAsync(operation, state, cancellationToken);

    public ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> operation, CancellationToken cancellationToken = default) =>
        _pipeline.ExecuteAsync(operation, cancellationToken);

    public ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken = default) =>
        _pipeline.ExecuteOutcomeAsync(operation, state, cancellationToken);

    public TResult Execute<TState, TResult>(Func<TState, CancellationToken, TResult> operation, TState state, CancellationToken cancellationToken = default) =>
        _pipeline.Execute(operation, state, cancellationToken);

    public void Execute<TState>(Action<TState, CancellationToken> operation, TState state, CancellationToken cancellationToken = default) =>
        _pipeline.Execute(operation, state, cancellationToken);
}

/// <summary>A timeout alone: a pipeline with one timeout layer of the options' kind.</summary>
internal sealed class TimeoutOnly
{
    private readonly ResiliencePipeline _pipeline;

    public TimeoutOnly(TimeoutOptions options, TimeProvider? timeProvider = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        var builder = new ResiliencePipelineBuilder(options.Name ?? "timeout")
        {
            TimeProvider = timeProvider ?? TimeProvider.System,
            LoggerFactory = OneLayer.Factory(logger),
            MeterFactory = meterFactory,
        };
        _pipeline = (options.Kind == TimeoutKind.Total ? builder.AddTotalTimeout(options) : builder.AddAttemptTimeout(options)).Build();
        Timeout = options.Timeout;
        Kind = options.Kind;
        Name = options.Name ?? "timeout";
        var engine = ((global::Resilience.Reload.IReloadablePipeline)_pipeline).Engine;
        Pool = (engine.Find<TotalTimeoutLayer>()?.Strategy ?? engine.Find<AttemptTimeoutLayer>()!.Strategy).Pool;
    }

    /// <summary>Gets the layer's pool of token sources.</summary>
    public CancellationTokenSourcePool Pool { get; }

    public TimeSpan Timeout { get; }

    public TimeoutKind Kind { get; }

    public string Name { get; }

    public ValueTask<TResult> ExecuteAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(operation, state, cancellationToken);

    public ValueTask ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask> operation, TState state, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(operation, state, cancellationToken);

    public ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken) =>
        _pipeline.ExecuteOutcomeAsync(operation, state, cancellationToken);
}

/// <summary>A breaker alone: each breaker's one-layer pipeline, typed by the result (so a result predicate can judge it).</summary>
internal static class BreakerOnly
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<CircuitBreaker, ResiliencePipeline> Pipelines = [];

    public static ResiliencePipeline Pipeline(this CircuitBreaker breaker) =>
        Pipelines.GetValue(breaker, static b => new ResiliencePipelineBuilder(b.Name).AddCircuitBreaker(b).Build());

    public static ResiliencePipeline<TResult> Pipeline<TResult>(this CircuitBreaker breaker, Func<TResult, bool> shouldHandleResult) =>
        new ResiliencePipelineBuilder<TResult>(breaker.Name).ShouldHandleResult(shouldHandleResult).AddCircuitBreaker(breaker).Build();

    public static ValueTask<TResult> ExecuteAsync<TState, TResult>(this CircuitBreaker breaker, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken) =>
        breaker.Pipeline().ExecuteAsync(operation, state, cancellationToken);

    public static ValueTask<TResult> ExecuteAsync<TState, TResult>(this CircuitBreaker breaker, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool> shouldHandleResult, CancellationToken cancellationToken) =>
        breaker.Pipeline(shouldHandleResult).ExecuteAsync(operation, state, cancellationToken);

    public static ValueTask<TResult> ExecuteAsync<TResult>(this CircuitBreaker breaker, Func<CancellationToken, ValueTask<TResult>> operation, CancellationToken cancellationToken) =>
        breaker.Pipeline().ExecuteAsync(operation, cancellationToken);

    public static ValueTask ExecuteAsync(this CircuitBreaker breaker, Func<CancellationToken, ValueTask> operation, CancellationToken cancellationToken) =>
        breaker.Pipeline().ExecuteAsync(operation, cancellationToken);

    public static ValueTask ExecuteAsync<TState>(this CircuitBreaker breaker, Func<TState, CancellationToken, ValueTask> operation, TState state, CancellationToken cancellationToken) =>
        breaker.Pipeline().ExecuteAsync(operation, state, cancellationToken);

    public static ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState, TResult>(this CircuitBreaker breaker, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken) =>
        breaker.Pipeline().ExecuteOutcomeAsync(operation, state, cancellationToken);

    public static ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState, TResult>(this CircuitBreaker breaker, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool> shouldHandleResult, CancellationToken cancellationToken) =>
        breaker.Pipeline(shouldHandleResult).ExecuteOutcomeAsync(operation, state, cancellationToken);

    public static TResult Execute<TState, TResult>(this CircuitBreaker breaker, Func<TState, TResult> operation, TState state) =>
        breaker.Pipeline().Execute(static (s, _) => s.operation(s.state), (operation, state));

    public static TResult Execute<TResult>(this CircuitBreaker breaker, Func<TResult> operation) =>
        breaker.Pipeline().Execute(static (op, _) => op(), operation);

    public static void Execute(this CircuitBreaker breaker, Action operation) =>
        breaker.Pipeline().Execute(static (op, _) => op(), operation);
}

/// <summary>A rate limiter alone: a pipeline with one rate-limiter layer.</summary>
internal sealed class RateLimiterOnly(RateLimiter limiter, string? name = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
{
    private readonly ResiliencePipeline _pipeline = new ResiliencePipelineBuilder(name ?? "rate-limiter")
    {
        LoggerFactory = OneLayer.Factory(logger),
        MeterFactory = meterFactory,
    }.AddRateLimiter(limiter).Build();

    public ValueTask<TResult> ExecuteAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(operation, state, cancellationToken);

    public ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken) =>
        _pipeline.ExecuteOutcomeAsync(operation, state, cancellationToken);
}

/// <summary>The cached fallback's old standalone run, kept as a test helper: the cache's own store and lookup, without a pipeline.</summary>
internal static class FallbackOnly
{
    public static async ValueTask<global::Resilience.Fallback.FallbackValue<TValue>> ExecuteAsync<TKey, TState, TValue>(
        this global::Resilience.Fallback.CachedFallback<TKey, TValue> cache, TKey key, Func<TState, CancellationToken, ValueTask<TValue>> operation, TState state, CancellationToken cancellationToken)
        where TKey : notnull
    {
        try
        {
            var value = await operation(state, cancellationToken);
            cache.Store(key, value);
            return new global::Resilience.Fallback.FallbackValue<TValue>(value, global::Resilience.Fallback.FallbackSource.Live, TimeSpan.Zero, DateTimeOffset.MinValue);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            && (e is ExecutionRejectedException || cache.Options.ShouldHandle is null || cache.Options.ShouldHandle(e)))
        {
            if (cache.TryGetFallback(key, out var fallback))
            {
                return fallback;
            }

            throw;
        }
    }

    public static ValueTask<global::Resilience.Fallback.FallbackValue<TValue>> ExecuteAsync<TKey, TValue>(
        this global::Resilience.Fallback.CachedFallback<TKey, TValue> cache, TKey key, Func<CancellationToken, ValueTask<TValue>> operation, CancellationToken cancellationToken)
        where TKey : notnull =>
        cache.ExecuteAsync(key, static (op, ct) => op(ct), operation, cancellationToken);
}
