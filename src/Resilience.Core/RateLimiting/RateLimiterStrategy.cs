using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Telemetry;

namespace Resilience.RateLimiting;

/// <summary>Admits calls through a <see cref="RateLimiter"/> (for example a <see cref="ConcurrencyLimiter"/> as a bulkhead).</summary>
/// <remarks>
/// A permit is first tried synchronously (<see cref="RateLimiter.AttemptAcquire(int)"/>), then awaited
/// (<see cref="RateLimiter.AcquireAsync(int, CancellationToken)"/>, which may queue). A refusal is a
/// <see cref="RateLimiterRejectedException"/> carrying the limiter's retry-after hint; the lease is always released,
/// also when the operation fails or is cancelled. The strategy does not own the limiter and never disposes it.
/// Internal: callers use the <see cref="RateLimiter"/> itself, or the pipeline's rate limiter slot.
/// </remarks>
internal sealed class RateLimiterStrategy
{
    private const string DefaultName = "rate-limiter";
    private readonly RateLimiter _limiter;
    private readonly ILogger _logger;
    private readonly RateLimiterTelemetry _telemetry;

    /// <summary>Initializes a new instance of the <see cref="RateLimiterStrategy"/> class.</summary>
    /// <param name="limiter">The limiter to acquire permits from.</param>
    /// <param name="name">The name reported in metrics, logs and rejections; <c>rate-limiter</c> when <see langword="null"/>.</param>
    /// <param name="logger">Receives rejection log events; none when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter the rejections counter report on (DI's <see cref="IMeterFactory"/>); the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    public RateLimiterStrategy(RateLimiter limiter, string? name = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(limiter);
        _limiter = limiter;
        Name = name ?? DefaultName;
        _logger = logger ?? NullLogger.Instance;
        _telemetry = ResilienceMeter.Instruments<RateLimiterTelemetry>(meterFactory);
    }

    /// <summary>Gets the name reported in metrics, logs and rejections.</summary>
    public string Name { get; }

    /// <summary>The pipeline's entry point: runs <paramref name="next"/> (which reports failures as outcomes) under a permit.</summary>
    internal ValueTask<Outcome<TResult>> ExecuteCoreAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<Outcome<TResult>>> next, TState state, CancellationToken cancellationToken)
    {
        var lease = _limiter.AttemptAcquire(1);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            return AcquireSlowAsync(next, state, cancellationToken);
        }

        return RunWithLease(lease, next, state, cancellationToken);
    }

    private static ValueTask<Outcome<TResult>> RunWithLease<TState, TResult>(
        RateLimitLease lease, Func<TState, CancellationToken, ValueTask<Outcome<TResult>>> next, TState state, CancellationToken cancellationToken)
    {
        ValueTask<Outcome<TResult>> task;
        try
        {
            task = next(state, cancellationToken);
        }
        catch (Exception ex)
        {
            lease.Dispose();
            return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(ex));
        }

        if (task.IsCompletedSuccessfully)
        {
            var outcome = task.Result;
            lease.Dispose();
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return AwaitAndReleaseAsync(lease, task);
    }

    private static async ValueTask<Outcome<TResult>> AwaitAndReleaseAsync<TResult>(RateLimitLease lease, ValueTask<Outcome<TResult>> task)
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return Outcome.FromException<TResult>(ex);
        }
        finally
        {
            lease.Dispose();
        }
    }

    private async ValueTask<Outcome<TResult>> AcquireSlowAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<Outcome<TResult>>> next, TState state, CancellationToken cancellationToken)
    {
        RateLimitLease lease;
        try
        {
            lease = await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex)
        {
            return Outcome.FromException<TResult>(ex);
        }

        if (!lease.IsAcquired)
        {
            TimeSpan? retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan hint) ? hint : null;
            lease.Dispose();
            _telemetry.RecordRejection(Name);
            RateLimiterLog.RateLimiterRejected(_logger, Name, retryAfter);
            return Outcome.FromException<TResult>(new RateLimiterRejectedException(Name, retryAfter));
        }

        return await RunWithLease(lease, next, state, cancellationToken).ConfigureAwait(false);
    }
}
