using Resilience.Testing;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.Health;
using Resilience.Telemetry;

namespace Resilience.Core.Tests.Health;

public sealed class PoolHealthMonitorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ScriptedPoolProbe _probe = new();

    private PoolHealthMonitor CreateMonitor(PoolHealthOptions? options = null, ILogger? logger = null, string name = "test") =>
        new(_probe, options ?? new PoolHealthOptions(), _time, logger, name);

    [Fact]
    public async Task CheckNow_IdlePool_IsHealthy()
    {
        await using var monitor = CreateMonitor();

        var report = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Healthy, report.Status);
        Assert.Equal("ok", report.Reason);
        Assert.Same(report, monitor.Current);
        Assert.False(monitor.IsDegraded);
        Assert.False(monitor.IsCritical);
        Assert.Equal(TimeSpan.FromMilliseconds(5), report.PingDuration);
        Assert.Equal(_time.GetUtcNow(), report.CheckedAt);
    }

    [Fact]
    public async Task CheckNow_EveryConnectionBusyButNobodyWaiting_IsHealthy()
    {
        _probe.Snapshot = new PoolSnapshot(maxSize: 10, busy: 10, idle: 0, waiters: 0, acquireTimeouts: 0);
        await using var monitor = CreateMonitor();

        var report = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Healthy, report.Status);
        Assert.Equal(1d, report.Utilization);
    }

    [Fact]
    public async Task CheckNow_WaitersNotYetSustained_StaysHealthyThenDegradesAfterWindow()
    {
        _probe.Snapshot = new PoolSnapshot(10, 10, 0, waiters: 3, acquireTimeouts: 0);
        await using var monitor = CreateMonitor(new PoolHealthOptions { WaitersSustainedFor = TimeSpan.FromSeconds(10) });

        var first = await monitor.CheckNowAsync();
        _time.Advance(TimeSpan.FromSeconds(9));
        var second = await monitor.CheckNowAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        var third = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Healthy, first.Status);
        Assert.Contains("not sustained", first.Reason, StringComparison.Ordinal);
        Assert.Equal(PoolHealthStatus.Healthy, second.Status);
        Assert.Equal(PoolHealthStatus.Degraded, third.Status);
        Assert.Contains("3 caller(s) waiting", third.Reason, StringComparison.Ordinal);
        Assert.True(monitor.IsDegraded);
    }

    [Fact]
    public async Task CheckNow_WaitersClearBetweenChecks_RestartsSustainedWindow()
    {
        var options = new PoolHealthOptions { WaitersSustainedFor = TimeSpan.FromSeconds(10) };
        await using var monitor = CreateMonitor(options);
        var waiting = new PoolSnapshot(10, 10, 0, waiters: 1, acquireTimeouts: 0);

        _probe.Snapshot = waiting;
        await monitor.CheckNowAsync();
        _time.Advance(TimeSpan.FromSeconds(6));
        _probe.Snapshot = new PoolSnapshot(10, 5, 5, waiters: 0, acquireTimeouts: 0);
        await monitor.CheckNowAsync();
        _time.Advance(TimeSpan.FromSeconds(6));
        _probe.Snapshot = waiting;
        var afterGap = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Healthy, afterGap.Status);
    }

    [Fact]
    public async Task CheckNow_WaitersWithZeroWindow_DegradesAtFirstSight()
    {
        _probe.Snapshot = new PoolSnapshot(3, 3, 0, waiters: 2, acquireTimeouts: 0);
        await using var monitor = CreateMonitor(new PoolHealthOptions { WaitersSustainedFor = TimeSpan.Zero });

        Assert.Equal(PoolHealthStatus.Degraded, (await monitor.CheckNowAsync()).Status);
    }

    [Theory]
    [InlineData(0, PoolHealthStatus.Degraded)] // every connection busy: the slow acquires are the pool's state now
    [InlineData(6, PoolHealthStatus.Healthy)] // connections idle and nobody waiting: the slow acquires are over
    public async Task CheckNow_P99AcquireWaitAboveBudget_DegradedUnlessConnectionsIdleNow(int idle, PoolHealthStatus expected)
    {
        _probe.Snapshot = new PoolSnapshot(10, 10 - idle, idle, 0, 0, p99AcquireWait: TimeSpan.FromMilliseconds(1500));
        await using var monitor = CreateMonitor(new PoolHealthOptions { AcquireWaitBudget = TimeSpan.FromSeconds(1) });

        var report = await monitor.CheckNowAsync();

        Assert.Equal(expected, report.Status);
        if (expected == PoolHealthStatus.Degraded)
        {
            Assert.Contains("p99 acquire wait 1500 ms", report.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CheckNow_P99AcquireWaitWithinBudget_IsHealthy()
    {
        _probe.Snapshot = new PoolSnapshot(10, 4, 6, 0, 0, p99AcquireWait: TimeSpan.FromMilliseconds(900));
        await using var monitor = CreateMonitor(new PoolHealthOptions { AcquireWaitBudget = TimeSpan.FromSeconds(1) });

        Assert.Equal(PoolHealthStatus.Healthy, (await monitor.CheckNowAsync()).Status);
    }

    [Fact]
    public async Task CheckNow_SlowPing_IsDegraded()
    {
        _probe.PingTakes(TimeSpan.FromMilliseconds(1200));
        await using var monitor = CreateMonitor(new PoolHealthOptions { SlowPingThreshold = TimeSpan.FromSeconds(1) });

        var report = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Degraded, report.Status);
        Assert.Contains("ping took 1200 ms", report.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckNow_PingFailsRepeatedly_DegradedThenCriticalAtThreshold()
    {
        _probe.PingFails();
        await using var monitor = CreateMonitor(new PoolHealthOptions { CriticalAfterPingFailures = 3 });

        var first = await monitor.CheckNowAsync();
        var second = await monitor.CheckNowAsync();
        var third = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Degraded, first.Status);
        Assert.Null(first.PingDuration);
        Assert.Equal(1, first.ConsecutivePingFailures);
        Assert.Equal(PoolHealthStatus.Degraded, second.Status);
        Assert.Equal(PoolHealthStatus.Critical, third.Status);
        Assert.Equal(3, third.ConsecutivePingFailures);
        Assert.Contains("InvalidOperationException", third.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("connection refused", third.Reason, StringComparison.Ordinal);
        Assert.True(monitor.IsCritical);
    }

    [Fact]
    public async Task CheckNow_PingRecoversAfterFailures_ResetsCountAndIsHealthy()
    {
        _probe.PingFails();
        await using var monitor = CreateMonitor(new PoolHealthOptions { CriticalAfterPingFailures = 2 });
        await monitor.CheckNowAsync();
        Assert.Equal(PoolHealthStatus.Critical, (await monitor.CheckNowAsync()).Status);

        _probe.PingTakes(TimeSpan.FromMilliseconds(3));
        var recovered = await monitor.CheckNowAsync();
        _probe.PingFails();
        var failedOnceAgain = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Healthy, recovered.Status);
        Assert.Equal(0, recovered.ConsecutivePingFailures);
        Assert.Equal(PoolHealthStatus.Degraded, failedOnceAgain.Status);
        Assert.Equal(1, failedOnceAgain.ConsecutivePingFailures);
    }

    [Fact]
    public async Task CheckNow_PingNeverAnswers_FailsAfterPingTimeout()
    {
        var pingCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probe.Ping = async ct =>
        {
            // Ignores its token on purpose: the monitor must still bound the ping.
            ct.Register(() => pingCancelled.TrySetResult());
            await new TaskCompletionSource().Task;
            return TimeSpan.Zero;
        };
        await using var monitor = CreateMonitor(new PoolHealthOptions { PingTimeout = TimeSpan.FromSeconds(2) });

        var check = monitor.CheckNowAsync();
        await _probe.PingStarted.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(check.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2));
        var report = await check.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(PoolHealthStatus.Degraded, report.Status);
        Assert.Contains("no answer within 2000 ms", report.Reason, StringComparison.Ordinal);
        await pingCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task CheckNow_OneAcquireTimeoutThenBusyWithoutIdle_CriticalOnceThenDegradedForTheWindowThenHealthy()
    {
        await using var monitor = CreateMonitor(new PoolHealthOptions { AcquireTimeoutWindow = TimeSpan.FromMinutes(2) });
        var baseline = await monitor.CheckNowAsync();

        _probe.Snapshot = new PoolSnapshot(3, 3, 0, 0, acquireTimeouts: 2);
        var rose = await monitor.CheckNowAsync();
        _time.Advance(TimeSpan.FromSeconds(10));
        var stillFull = await monitor.CheckNowAsync();
        _time.Advance(TimeSpan.FromSeconds(110));
        var after = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Healthy, baseline.Status);
        Assert.Equal(PoolHealthStatus.Critical, rose.Status);
        Assert.Contains("acquire timeouts", rose.Reason, StringComparison.Ordinal);
        Assert.Equal(PoolHealthStatus.Degraded, stillFull.Status); // every connection busy: not red, not green either
        Assert.StartsWith("recovered", stillFull.Reason, StringComparison.Ordinal);
        Assert.Equal(PoolHealthStatus.Healthy, after.Status);
    }

    [Fact]
    public async Task CheckNow_AcquireTimeoutsThenConnectionsReleased_HealthyAtTheNextCheck()
    {
        await using var monitor = CreateMonitor(new PoolHealthOptions { AcquireTimeoutWindow = TimeSpan.FromMinutes(2) });
        _probe.Snapshot = new PoolSnapshot(4, 4, 0, waiters: 6, acquireTimeouts: 6, p99AcquireWait: TimeSpan.FromSeconds(2));
        var exhausted = await monitor.CheckNowAsync();

        // Between the checks more callers timed out, then every connection was released.
        _time.Advance(TimeSpan.FromSeconds(1));
        _probe.Snapshot = new PoolSnapshot(4, 0, 4, waiters: 0, acquireTimeouts: 9, p99AcquireWait: TimeSpan.FromSeconds(2));
        var released = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Critical, exhausted.Status);
        Assert.Equal(PoolHealthStatus.Healthy, released.Status);
        Assert.Contains("recovered", released.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckNow_CallerWaitingLongerThanBudgetBeforeAnyTimeout_DegradedThenCritical()
    {
        // Defaults: a caller waiting past the 1 s budget (half a 2 s pool Timeout) degrades the pool before any acquire times out.
        await using var monitor = CreateMonitor();
        _probe.Snapshot = new PoolSnapshot(4, 4, 0, waiters: 6, acquireTimeouts: 0, p99AcquireWait: TimeSpan.FromMilliseconds(1_200));
        var waiting = await monitor.CheckNowAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        _probe.Snapshot = new PoolSnapshot(4, 4, 0, waiters: 6, acquireTimeouts: 6, p99AcquireWait: TimeSpan.FromSeconds(2));
        var timedOut = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Degraded, waiting.Status);
        Assert.Contains("p99 acquire wait", waiting.Reason, StringComparison.Ordinal);
        Assert.Equal(PoolHealthStatus.Critical, timedOut.Status);
    }

    [Fact]
    public async Task CheckNow_AcquireTimeoutRoseAndCallersStillWait_StaysCritical()
    {
        await using var monitor = CreateMonitor();
        await monitor.CheckNowAsync();

        _probe.Snapshot = new PoolSnapshot(3, 3, 0, waiters: 2, acquireTimeouts: 1);
        await monitor.CheckNowAsync();
        _time.Advance(TimeSpan.FromSeconds(30));
        var stillWaiting = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Critical, stillWaiting.Status);
    }

    [Fact]
    public async Task CheckNow_AcquireTimeoutsAndWaiters_CriticalWins()
    {
        _probe.Snapshot = new PoolSnapshot(3, 3, 0, waiters: 5, acquireTimeouts: 1, p99AcquireWait: TimeSpan.FromSeconds(9));
        _probe.PingTakes(TimeSpan.FromSeconds(2));
        await using var monitor = CreateMonitor(new PoolHealthOptions { WaitersSustainedFor = TimeSpan.Zero });

        Assert.Equal(PoolHealthStatus.Critical, (await monitor.CheckNowAsync()).Status);
    }

    [Fact]
    public async Task CheckNow_SnapshotThrows_DegradedAndLogged()
    {
        var logger = new CapturingLogger();
        _probe.SnapshotError = new InvalidOperationException("meter gone");
        await using var monitor = CreateMonitor(logger: logger);

        var report = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Degraded, report.Status);
        Assert.Contains("pool figures unavailable", report.Reason, StringComparison.Ordinal);
        Assert.Contains(logger.Entries, e => e.EventId.Id == ResilienceEventIds.PoolHealthCheckFailed);
    }

    [Fact]
    public async Task StatusChanged_RaisedOncePerChangeWithPreviousStatus()
    {
        await using var monitor = CreateMonitor(new PoolHealthOptions { CriticalAfterPingFailures = 2 });
        var changes = new List<(PoolHealthStatus From, PoolHealthStatus To)>();
        monitor.StatusChanged += (_, e) => changes.Add((e.PreviousStatus, e.Report.Status));

        await monitor.CheckNowAsync();
        _probe.PingFails();
        await monitor.CheckNowAsync();
        await monitor.CheckNowAsync();
        await monitor.CheckNowAsync();
        _probe.PingTakes(TimeSpan.FromMilliseconds(1));
        await monitor.CheckNowAsync();

        Assert.Equal(
            [(PoolHealthStatus.Healthy, PoolHealthStatus.Degraded), (PoolHealthStatus.Degraded, PoolHealthStatus.Critical), (PoolHealthStatus.Critical, PoolHealthStatus.Healthy)],
            changes);
    }

    [Fact]
    public async Task StatusChanged_HandlerThrows_LoggedAndMonitorCarriesOn()
    {
        var logger = new CapturingLogger();
        await using var monitor = CreateMonitor(logger: logger);
        monitor.StatusChanged += (_, _) => throw new InvalidOperationException("handler bug");
        _probe.PingFails();

        var report = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Degraded, report.Status);
        Assert.Same(report, monitor.Current);
        Assert.Contains(logger.Entries, e => e.EventId.Id == ResilienceEventIds.PoolHealthStatusHandlerFailed);
    }

    [Fact]
    public async Task StatusChange_LogsEventPerStatus()
    {
        var logger = new CapturingLogger();
        await using var monitor = CreateMonitor(new PoolHealthOptions { CriticalAfterPingFailures = 2 }, logger);

        _probe.PingFails();
        await monitor.CheckNowAsync();
        await monitor.CheckNowAsync();
        _probe.PingTakes(TimeSpan.FromMilliseconds(1));
        await monitor.CheckNowAsync();

        Assert.Equal(
            [ResilienceEventIds.PoolHealthDegraded, ResilienceEventIds.PoolHealthCritical, ResilienceEventIds.PoolHealthRecovered],
            logger.Entries.Select(e => e.EventId.Id));
        Assert.Equal([LogLevel.Warning, LogLevel.Error, LogLevel.Information], logger.Entries.Select(e => e.Level));
    }

    [Fact]
    public async Task StartAsync_ChecksAtOnceThenEveryInterval_StopAsyncEndsChecks()
    {
        await using var monitor = CreateMonitor(new PoolHealthOptions { CheckInterval = TimeSpan.FromSeconds(60) });

        await monitor.StartAsync();
        Assert.True(await _probe.PingStarted.WaitAsync(TimeSpan.FromSeconds(10)), "no check at start");

        // A tick that finds a check still running is skipped (by design), so the first check must be over before the
        // clock reaches the next tick; on a loaded machine its continuation ran after the tick (failed once in a full run).
        await monitor.ScheduledCheck.WaitAsync(TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(1, _probe.PingCount);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await _probe.PingStarted.WaitAsync(TimeSpan.FromSeconds(10)), "no check one interval later");
        await monitor.ScheduledCheck.WaitAsync(TimeSpan.FromSeconds(10));
        await monitor.StopAsync();
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(2, _probe.PingCount);
        Assert.NotNull(monitor.Current);
    }

    [Fact]
    public async Task StartAsync_ScheduledCheckChangesStatus_RaisesStatusChanged()
    {
        _probe.PingFails();
        await using var monitor = CreateMonitor();
        var changed = new TaskCompletionSource<PoolHealthStatusChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        monitor.StatusChanged += (_, e) => changed.TrySetResult(e);

        await monitor.StartAsync();
        var args = await changed.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("test", args.Name);
        Assert.Equal(PoolHealthStatus.Degraded, args.Report.Status);
    }

    [Fact]
    public async Task StopAsync_DuringHangingPing_CancelsAndReturns()
    {
        var pingCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pingWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probe.Ping = async ct =>
        {
            pingWaiting.TrySetResult();
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }
            catch (OperationCanceledException)
            {
                pingCancelled.TrySetResult();
                throw;
            }

            return TimeSpan.Zero;
        };
        await using var monitor = CreateMonitor();

        await monitor.StartAsync();
        await pingWaiting.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await monitor.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));

        await pingCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(monitor.Current);
    }

    [Fact]
    public async Task DisposeAsync_StopsTimerAndRejectsFurtherChecks()
    {
        var monitor = CreateMonitor();
        await monitor.StartAsync();
        await _probe.PingStarted.WaitAsync(TimeSpan.FromSeconds(10));

        await monitor.DisposeAsync();
        await monitor.DisposeAsync();
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(1, _probe.PingCount);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => monitor.CheckNowAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => monitor.StartAsync());
    }

    [Fact]
    public async Task CheckNow_CallerCancels_ThrowsOperationCanceled()
    {
        _probe.Ping = async ct =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return TimeSpan.Zero;
        };
        await using var monitor = CreateMonitor();
        using var cts = new CancellationTokenSource();

        var check = monitor.CheckNowAsync(cts.Token);
        await _probe.PingStarted.WaitAsync(TimeSpan.FromSeconds(10));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => check);
        Assert.Null(monitor.Current);
    }

    [Fact]
    public async Task Gauges_ReportStatusUtilizationAndWaitersTaggedWithName()
    {
        var name = "gauge-" + Guid.NewGuid().ToString("N");
        _probe.Snapshot = new PoolSnapshot(4, 2, 2, waiters: 1, acquireTimeouts: 1);
        await using var monitor = CreateMonitor(name: name);
        await monitor.CheckNowAsync();
        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ResilienceTelemetry.MeterName && instrument.Name.StartsWith("resilience.pool.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == ResilienceTelemetry.NameTag && Equals(tag.Value, name))
                {
                    seen[instrument.Name] = value;
                }
            }
        }

        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Equal(2d, seen["resilience.pool.health.status"]);
        Assert.Equal(0.5d, seen["resilience.pool.utilization"]);
        Assert.Equal(1d, seen["resilience.pool.waiters"]);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsNamingEveryBrokenRule()
    {
        var options = new PoolHealthOptions
        {
            CheckInterval = TimeSpan.Zero,
            PingTimeout = TimeSpan.FromSeconds(5),
            SlowPingThreshold = TimeSpan.FromSeconds(10),
            AcquireWaitBudget = TimeSpan.Zero,
            CriticalAfterPingFailures = 0,
        };

        var error = Assert.Throws<OptionsValidationException>(() => new PoolHealthMonitor(_probe, options, _time));

        Assert.Contains(error.Failures, f => f.StartsWith("PoolHealth:CheckInterval: must be between", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("PoolHealth:PingTimeout: must not exceed CheckInterval", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("PoolHealth:SlowPingThreshold: must be below PingTimeout", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("PoolHealth:AcquireWaitBudget: must be positive", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("PoolHealth:CriticalAfterPingFailures: must be between 1 and 100", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_Defaults_MatchDocumentedValues()
    {
        var options = new PoolHealthOptions();

        // A readiness probe's pace (the former 60 s let a whole outage pass unseen); the ping's limits follow it.
        Assert.Equal(TimeSpan.FromSeconds(2), options.CheckInterval);
        Assert.Equal(TimeSpan.FromSeconds(2), options.PingTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), options.SlowPingThreshold);
        Assert.Equal(TimeSpan.FromSeconds(5), options.WaitersSustainedFor);
        Assert.Equal(TimeSpan.FromSeconds(1), options.AcquireWaitBudget);
        Assert.Equal(TimeSpan.FromMinutes(2), options.AcquireTimeoutWindow);
        Assert.Equal(TimeSpan.FromSeconds(5), options.MaxReportAge);
        Assert.Equal(3, options.CriticalAfterPingFailures);
        options.Validate();
    }

    [Fact]
    public void Options_OnlyShortCheckIntervalSet_PingLimitsFollowIt()
    {
        var options = new PoolHealthOptions { CheckInterval = TimeSpan.FromSeconds(1) };

        options.Validate();
        Assert.Equal(TimeSpan.FromSeconds(1), options.PingTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.SlowPingThreshold);
    }

    [Fact]
    public void Options_OnlyLongPingTimeoutSet_CheckIntervalFollowsIt()
    {
        var options = new PoolHealthOptions { PingTimeout = TimeSpan.FromSeconds(10) };

        options.Validate();
        Assert.Equal(TimeSpan.FromSeconds(10), options.CheckInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), options.SlowPingThreshold);
    }

    [Fact]
    public void Options_ContradictoryPairSet_FailsNamingTheKey()
    {
        var interval = new PoolHealthOptions { CheckInterval = TimeSpan.FromSeconds(1), PingTimeout = TimeSpan.FromSeconds(2) };
        var slow = new PoolHealthOptions { SlowPingThreshold = TimeSpan.FromSeconds(3) };

        var intervalError = Assert.Throws<OptionsValidationException>(interval.Validate);
        var slowError = Assert.Throws<OptionsValidationException>(slow.Validate);

        Assert.Equal(["PoolHealth:PingTimeout: must not exceed CheckInterval (was 00:00:02 > 00:00:01)."], intervalError.Failures);
        Assert.Equal(
            ["PoolHealth:SlowPingThreshold: must be below PingTimeout (was 00:00:03 >= 00:00:02; PingTimeout is not set and defaults to the shorter of 5 s and CheckInterval: set it above 00:00:03)."],
            slowError.Failures);
    }

    [Fact]
    public async Task Constructor_CopiesOptions_LaterChangesDoNotApply()
    {
        var options = new PoolHealthOptions { CriticalAfterPingFailures = 1 };
        await using var monitor = CreateMonitor(options);
        options.CriticalAfterPingFailures = 50;
        _probe.PingFails();

        Assert.Equal(PoolHealthStatus.Critical, (await monitor.CheckNowAsync()).Status);
    }
}
