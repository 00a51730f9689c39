using System.Threading.RateLimiting;

namespace ContentService.Security;

/// <summary>
/// A fixed-window limiter whose refusals carry the time left in the window as <see cref="MetadataName.RetryAfter"/>.
/// The framework's <see cref="FixedWindowRateLimiter"/> always reports the whole window, so a client told to wait 10 s
/// could often have retried in 1 s. Windows roll lazily on the <see cref="TimeProvider"/> (no timer), so tests drive
/// them with a fake clock.
/// </summary>
internal sealed class FixedWindowLimiter(int permitLimit, TimeSpan window, TimeProvider time) : RateLimiter
{
    private static readonly RateLimitLease Granted = new RetryAfterLease(true, null);
    private readonly Lock _gate = new();
    private long _windowStart = time.GetTimestamp();
    private long _lastUsed = time.GetTimestamp();
    private int _used;
    private long _failed;
    private long _succeeded;

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                // Idle (so the partition may be dropped) once its window has ended with nothing taken since.
                var idle = time.GetElapsedTime(_lastUsed);
                return idle >= window ? idle : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate)
        {
            Roll();
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = permitLimit - _used,
                CurrentQueuedCount = 0,
                TotalFailedLeases = _failed,
                TotalSuccessfulLeases = _succeeded,
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, permitLimit);
        lock (_gate)
        {
            Roll();
            _lastUsed = time.GetTimestamp();
            if (permitCount == 0 || _used + permitCount <= permitLimit)
            {
                _used += permitCount;
                _succeeded++;
                return Granted;
            }

            _failed++;
            var left = window - time.GetElapsedTime(_windowStart);
            return new RetryAfterLease(false, left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private void Roll()
    {
        var elapsed = time.GetElapsedTime(_windowStart);
        if (elapsed >= window)
        {
            // Windows stay aligned to the first one, as a fixed window should.
            var windows = elapsed.Ticks / window.Ticks;
            _windowStart += (long)(windows * window.Ticks * (time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));
            _used = 0;
        }
    }
}
