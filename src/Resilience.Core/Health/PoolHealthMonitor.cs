using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Telemetry;

namespace Resilience.Health;

/// <summary>Checks a connection pool periodically through an <see cref="IPoolProbe"/> and keeps the latest <see cref="PoolHealthReport"/>.</summary>
/// <remarks>
/// <para>Status policy (thresholds in <see cref="PoolHealthOptions"/>): <b>critical</b> when the acquire-timeout counter rose
/// since the previous check (or rose within <see cref="PoolHealthOptions.AcquireTimeoutWindow"/> and callers still wait) or
/// <see cref="PoolHealthOptions.CriticalAfterPingFailures"/> pings failed in a row; <b>degraded</b> when acquire timeouts were
/// seen within the window but the pool has recovered, a ping failed or was slower than <see cref="PoolHealthOptions.SlowPingThreshold"/>,
/// callers have waited for connections for <see cref="PoolHealthOptions.WaitersSustainedFor"/>, or the p99 acquire wait exceeds
/// <see cref="PoolHealthOptions.AcquireWaitBudget"/>; otherwise <b>healthy</b>. Utilization alone never degrades a pool.</para>
/// <para>Checks run on a <see cref="TimeProvider"/> timer between <see cref="StartAsync"/> and <see cref="StopAsync"/>, one at a
/// time; <see cref="CheckNowAsync"/> runs one on demand. Status changes raise <see cref="StatusChanged"/>, are logged
/// (event IDs 1500–1502) and are reported by the <c>resilience.pool.*</c> gauges.</para>
/// </remarks>
public sealed class PoolHealthMonitor : IAsyncDisposable
{
    private readonly IPoolProbe _probe;
    private readonly PoolHealthOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly PoolHealthTelemetry _telemetry;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _lifecycle = new();

    private PoolHealthReport? _report;
    private ITimer? _timer;
    private CancellationTokenSource? _stopping;
    private Task _scheduledCheck = Task.CompletedTask;

    /// <summary>Gets the scheduled check running now, or a completed task: a tick that finds one running is skipped.</summary>
    internal Task ScheduledCheck
    {
        get
        {
            lock (_lifecycle)
            {
                return _scheduledCheck;
            }
        }
    }
    private bool _disposed;

    // Check state, only touched while holding _gate.
    private int _consecutivePingFailures;
    private long _lastAcquireTimeouts;
    private long? _acquireTimeoutsRoseAt;
    private long? _waitersSince;
    private bool _acquireTimeoutsRoseNow;

    /// <summary>Creates a monitor; it does not check until <see cref="StartAsync"/> or <see cref="CheckNowAsync"/>.</summary>
    /// <param name="probe">Reads the pool and pings its server.</param>
    /// <param name="options">Interval and thresholds; copied and validated. Defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock and timer source; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">Receives status changes; nothing is logged when <see langword="null"/>.</param>
    /// <param name="name">The pool's name in logs, metrics and reports.</param>
    /// <param name="meterFactory">Creates the meter the pool gauges report on (DI's <see cref="IMeterFactory"/>); the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException"><paramref name="options"/> is invalid.</exception>
    public PoolHealthMonitor(
        IPoolProbe probe,
        PoolHealthOptions? options = null,
        TimeProvider? timeProvider = null,
        ILogger? logger = null,
        string name = PoolHealthConstants.DefaultName,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _options = options?.Clone() ?? new PoolHealthOptions();
        _options.Validate();
        _probe = probe;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        Name = name;
        _telemetry = ResilienceMeter.Instruments<PoolHealthTelemetry>(meterFactory);
        _telemetry.Register(this);
    }

    /// <summary>Raised after a check whose status differs from the previous one (the first check compares with healthy).</summary>
    /// <remarks>Runs on the checking thread; a handler that throws is logged and does not stop the monitor.</remarks>
    public event EventHandler<PoolHealthStatusChangedEventArgs>? StatusChanged;

    /// <summary>Gets the pool's name.</summary>
    public string Name { get; }

    /// <summary>Gets the latest report, or <see langword="null"/> before the first check.</summary>
    public PoolHealthReport? Current => Volatile.Read(ref _report);

    /// <summary>Gets the latest status (<see cref="PoolHealthStatus.Healthy"/> before the first check).</summary>
    public PoolHealthStatus Status => Current?.Status ?? PoolHealthStatus.Healthy;

    /// <summary>Gets a value indicating whether the latest check found the pool degraded or worse.</summary>
    public bool IsDegraded => Status >= PoolHealthStatus.Degraded;

    /// <summary>Gets a value indicating whether the latest check found the pool critical.</summary>
    public bool IsCritical => Status == PoolHealthStatus.Critical;

    /// <summary>Starts periodic checks; the first runs at once, then every <see cref="PoolHealthOptions.CheckInterval"/>.</summary>
    /// <param name="cancellationToken">Not used; present for host integration.</param>
    /// <returns>A completed task: checks run in the background.</returns>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_timer is not null)
            {
                return Task.CompletedTask;
            }

            _stopping = new CancellationTokenSource();
            _timer = _timeProvider.CreateTimer(static state => ((PoolHealthMonitor)state!).OnTimer(), this, TimeSpan.Zero, _options.CheckInterval);
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops periodic checks, cancels a running one and waits for it to finish.</summary>
    /// <param name="cancellationToken">Stops waiting for the running check.</param>
    /// <returns>A task that completes when no scheduled check runs any more.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        ITimer? timer;
        CancellationTokenSource? stopping;
        Task running;
        lock (_lifecycle)
        {
            timer = _timer;
            stopping = _stopping;
            running = _scheduledCheck;
            _timer = null;
            _stopping = null;
        }

        if (timer is null)
        {
            return;
        }

        await timer.DisposeAsync().ConfigureAwait(false);
        await stopping!.CancelAsync().ConfigureAwait(false);
        try
        {
            await running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            stopping.Dispose();
        }
    }

    /// <summary>Runs a check now (after any check in progress) and returns its report.</summary>
    /// <param name="cancellationToken">Cancels waiting for and running the check.</param>
    /// <returns>The new report, also available as <see cref="Current"/>.</returns>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<PoolHealthReport> CheckNowAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await CheckCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the monitor and removes it from the gauges.</summary>
    /// <returns>A task that completes when the monitor has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        lock (_lifecycle)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        await StopAsync().ConfigureAwait(false);
        _telemetry.Unregister(this);
    }

    /// <summary>The latest report when it is younger than <see cref="PoolHealthOptions.MaxReportAge"/>; otherwise a check now.</summary>
    internal async Task<PoolHealthReport> GetFreshReportAsync(CancellationToken cancellationToken)
    {
        if (Current is { } report && _timeProvider.GetUtcNow() - report.CheckedAt <= _options.MaxReportAge)
        {
            return report;
        }

        return await CheckNowAsync(cancellationToken).ConfigureAwait(false);
    }

    private void OnTimer()
    {
        lock (_lifecycle)
        {
            // A check still running (slow ping) makes this tick a no-op rather than a queue of checks.
            if (_stopping is null || !_scheduledCheck.IsCompleted)
            {
                return;
            }

            _scheduledCheck = RunScheduledCheckAsync(_stopping.Token);
        }
    }

    private async Task RunScheduledCheckAsync(CancellationToken stopping)
    {
        await Task.Yield();
        try
        {
            await CheckNowAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped while checking: the next start checks again.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            PoolHealthLog.CheckFailed(_logger, Name, ex);
        }
    }

    private async Task<PoolHealthReport> CheckCoreAsync(CancellationToken cancellationToken)
    {
        PoolSnapshot snapshot = default;
        Exception? snapshotError = null;
        try
        {
            snapshot = _probe.GetSnapshot();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            snapshotError = ex;
            PoolHealthLog.CheckFailed(_logger, Name, ex);
        }

        TimeSpan? pingDuration = null;
        Exception? pingError = null;
        using (var timeout = new CancellationTokenSource(_options.PingTimeout, _timeProvider))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
        {
            Task<TimeSpan>? ping = null;
            try
            {
                // WaitAsync bounds the ping even if the probe ignores its token.
                ping = _probe.PingAsync(linked.Token).AsTask();
                pingDuration = await ping.WaitAsync(_options.PingTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                pingError = ex;
            }
            finally
            {
                // The caller's token may have ended the wait before the linked source saw it (callbacks run in reverse
                // order and disposing unregisters): cancel explicitly so an abandoned ping never keeps running.
                if (ping is { IsCompleted: false })
                {
                    await linked.CancelAsync().ConfigureAwait(false);
                }
            }
        }

        var now = _timeProvider.GetTimestamp();
        _consecutivePingFailures = pingError is null ? 0 : _consecutivePingFailures + 1;
        _acquireTimeoutsRoseNow = false;
        if (snapshotError is null)
        {
            if (snapshot.AcquireTimeouts > _lastAcquireTimeouts)
            {
                _acquireTimeoutsRoseAt = now;
                _acquireTimeoutsRoseNow = true;
            }

            // A counter that went down means the probe restarted counting: take it as the new baseline.
            _lastAcquireTimeouts = snapshot.AcquireTimeouts;
            _waitersSince = snapshot.Waiters > 0 ? _waitersSince ?? now : null;
        }

        var (status, reason) = Decide(snapshot, snapshotError, pingDuration, pingError, now);
        var report = new PoolHealthReport(status, snapshot, pingDuration, _consecutivePingFailures, reason, _timeProvider.GetUtcNow());
        var previous = Volatile.Read(ref _report)?.Status ?? PoolHealthStatus.Healthy;
        Volatile.Write(ref _report, report);
        if (status != previous)
        {
            OnStatusChanged(previous, report);
        }

        return report;
    }

    private (PoolHealthStatus Status, string Reason) Decide(
        PoolSnapshot snapshot, Exception? snapshotError, TimeSpan? pingDuration, Exception? pingError, long now)
    {
        var culture = CultureInfo.InvariantCulture;
        if (_consecutivePingFailures >= _options.CriticalAfterPingFailures)
        {
            return (PoolHealthStatus.Critical, string.Format(culture,
                "{0} consecutive pings failed (last: {1})", _consecutivePingFailures, Describe(pingError!)));
        }

        // Nobody waiting and a connection idle: whatever happened since the last check, the pool serves callers now, so past
        // timeouts and waits no longer hold readiness down (the pool is Healthy within one check of its release).
        var servingNow = snapshotError is null && snapshot.Waiters == 0 && snapshot.Idle > 0;
        var recentTimeouts = !servingNow && _acquireTimeoutsRoseAt is { } roseAt && _timeProvider.GetElapsedTime(roseAt, now) < _options.AcquireTimeoutWindow;
        if (recentTimeouts && (_acquireTimeoutsRoseNow || snapshot.Waiters > 0))
        {
            return (PoolHealthStatus.Critical, string.Format(culture,
                "connection acquire timeouts within the last {0:0} s (total {1})", _options.AcquireTimeoutWindow.TotalSeconds, _lastAcquireTimeouts));
        }

        if (pingError is not null)
        {
            return (PoolHealthStatus.Degraded, string.Format(culture,
                "ping failed ({0}); {1} of {2} failures before critical", Describe(pingError), _consecutivePingFailures, _options.CriticalAfterPingFailures));
        }

        if (snapshotError is not null)
        {
            return (PoolHealthStatus.Degraded, "pool figures unavailable (" + snapshotError.GetType().Name + ")");
        }

        if (pingDuration > _options.SlowPingThreshold)
        {
            return (PoolHealthStatus.Degraded, string.Format(culture,
                "ping took {0:0} ms, above {1:0} ms", pingDuration.Value.TotalMilliseconds, _options.SlowPingThreshold.TotalMilliseconds));
        }

        if (_waitersSince is { } since && _timeProvider.GetElapsedTime(since, now) >= _options.WaitersSustainedFor)
        {
            return (PoolHealthStatus.Degraded, string.Format(culture,
                "{0} caller(s) waiting for a connection, sustained for {1:0.#} s", snapshot.Waiters, _timeProvider.GetElapsedTime(since, now).TotalSeconds));
        }

        if (!servingNow && snapshot.P99AcquireWait > _options.AcquireWaitBudget)
        {
            return (PoolHealthStatus.Degraded, string.Format(culture,
                "p99 acquire wait {0:0} ms above budget {1:0} ms", snapshot.P99AcquireWait.Value.TotalMilliseconds, _options.AcquireWaitBudget.TotalMilliseconds));
        }

        if (recentTimeouts)
        {
            return (PoolHealthStatus.Degraded, string.Format(culture,
                "recovered; connection acquire timeouts within the last {0:0} s (total {1})", _options.AcquireTimeoutWindow.TotalSeconds, _lastAcquireTimeouts));
        }

        if (snapshot.Waiters > 0)
        {
            return (PoolHealthStatus.Healthy, string.Format(culture, "ok ({0} caller(s) waiting, not sustained yet)", snapshot.Waiters));
        }

        return (PoolHealthStatus.Healthy, _acquireTimeoutsRoseNow
            ? string.Format(culture, "ok (recovered: connections idle, nobody waiting; acquire timeouts since the last check, total {0})", _lastAcquireTimeouts)
            : "ok");
    }

    // Type names only: exception messages may carry host names or other details not meant for a health endpoint.
    private string Describe(Exception error) => error is TimeoutException or OperationCanceledException
        ? string.Format(CultureInfo.InvariantCulture, "no answer within {0:0} ms", _options.PingTimeout.TotalMilliseconds)
        : error.GetType().Name;

    private void OnStatusChanged(PoolHealthStatus previous, PoolHealthReport report)
    {
        switch (report.Status)
        {
            case PoolHealthStatus.Healthy:
                PoolHealthLog.Recovered(_logger, Name, previous, report.Reason);
                break;
            case PoolHealthStatus.Degraded:
                PoolHealthLog.Degraded(_logger, Name, previous, report.Reason);
                break;
            default:
                PoolHealthLog.Critical(_logger, Name, previous, report.Reason);
                break;
        }

        var handler = StatusChanged;
        if (handler is null)
        {
            return;
        }

        try
        {
            handler(this, new PoolHealthStatusChangedEventArgs(Name, previous, report));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            PoolHealthLog.HandlerFailed(_logger, Name, ex);
        }
    }
}
