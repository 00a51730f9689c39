using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Telemetry;
using Resilience.Testing;

namespace Resilience.Core.Tests.CircuitBreaking;

/// <summary>Half-open probes that never report, permits reported twice, and the order of state changes.</summary>
public sealed class CircuitBreakerProbeTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly CapturingLogger _log = new();

    public void Dispose() => _log.Dispose();

    private global::Resilience.CircuitBreaking.CircuitBreaker Create(CircuitBreakerMode mode, Action<CircuitBreakerOptions>? configure = null)
    {
        var options = new CircuitBreakerOptions
        {
            Mode = mode,
            FailureThreshold = 2,
            MinimumThroughput = 2,
            FailureRatio = 0.5,
            BreakDuration = TimeSpan.FromSeconds(60),
        };
        configure?.Invoke(options);
        return new global::Resilience.CircuitBreaking.CircuitBreaker("orders", options, _time, _log);
    }

    private void TripAndElapse(global::Resilience.CircuitBreaking.CircuitBreaker breaker)
    {
        for (int i = 0; i < 2; i++)
        {
            Assert.True(breaker.TryAcquire(out var permit));
            permit.Failed(new InvalidOperationException("down"));
        }

        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(breaker.GetSnapshot().BreakDuration);
    }

    [Fact]
    public void HalfOpen_ProbeNeverReported_NewProbeAdmittedAfterProbeTimeout()
    {
        var breaker = Create(CircuitBreakerMode.ConsecutiveFailures, o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(5);
            o.BreakDurationFactor = 2;
            o.MaxBreakDuration = TimeSpan.FromMinutes(10);
        });
        TripAndElapse(breaker);
        Assert.True(breaker.TryAcquire(out var lost));
        Assert.True(lost.IsProbe);

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(breaker.TryAcquire(out var refused));
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RemainingBreak);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(breaker.TryAcquire(out var replacement));
        Assert.True(replacement.IsProbe);
        replacement.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void HalfOpen_ProbeAbandoned_LogsEventAndCountsMetric()
    {
        long abandoned = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ResilienceTelemetry.MeterName && instrument.Name == "resilience.circuit_breaker.abandoned_probes")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == ResilienceTelemetry.NameTag && (string?)tag.Value == "orders")
                {
                    Interlocked.Add(ref abandoned, value);
                }
            }
        });
        listener.Start();
        var breaker = Create(CircuitBreakerMode.ConsecutiveFailures, o => o.ProbeTimeout = TimeSpan.FromSeconds(5));
        TripAndElapse(breaker);
        Assert.True(breaker.TryAcquire(out _));

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(breaker.TryAcquire(out _));

        Assert.Equal(1, Interlocked.Read(ref abandoned));
        Assert.Contains(ResilienceEventIds.CircuitProbeAbandoned, _log.EventIds);
    }

    [Fact]
    public async Task HalfOpen_ProbesInFlight_RejectionReportsTimeToNextProbe()
    {
        var breaker = Create(CircuitBreakerMode.ConsecutiveFailures, o => o.ProbeTimeout = TimeSpan.FromSeconds(8));
        TripAndElapse(breaker);
        Assert.True(breaker.TryAcquire(out _));
        _time.Advance(TimeSpan.FromSeconds(3));

        var outcome = await breaker.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);
        var thrown = await Assert.ThrowsAsync<BrokenCircuitException>(() => breaker.ExecuteAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None).AsTask());

        var shared = Assert.IsType<BrokenCircuitException>(outcome.Exception);
        Assert.Equal(CircuitState.HalfOpen, shared.State);
        Assert.Equal(TimeSpan.FromSeconds(5), shared.RemainingBreak);
        Assert.Contains("5 s", shared.Message, StringComparison.Ordinal);
        Assert.Equal(CircuitState.HalfOpen, thrown.State);
        Assert.Equal(TimeSpan.FromSeconds(5), thrown.RemainingBreak);
    }

    [Fact]
    public async Task Open_SharedRejection_MessageAndRemainingBreakAgreeWithTimeLeftNow()
    {
        var breaker = Create(CircuitBreakerMode.ConsecutiveFailures);
        for (int i = 0; i < 2; i++)
        {
            Assert.True(breaker.TryAcquire(out var permit));
            permit.Failed();
        }

        _time.Advance(TimeSpan.FromSeconds(20));
        var outcome = await breaker.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);

        var rejection = Assert.IsType<BrokenCircuitException>(outcome.Exception);
        Assert.Equal(TimeSpan.FromSeconds(40), rejection.RemainingBreak);
        Assert.Contains("in 40 s", rejection.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(CircuitBreakerMode.ConsecutiveFailures)]
    [InlineData(CircuitBreakerMode.FailureRatio)]
    public void ProbePermit_SucceededTwice_CountsOnce(CircuitBreakerMode mode)
    {
        var breaker = Create(mode, o => o.PermittedProbes = 2);
        TripAndElapse(breaker);
        Assert.True(breaker.TryAcquire(out var probe));
        var copy = probe;

        probe.Succeeded();
        probe.Succeeded();
        copy.Succeeded();

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.True(breaker.TryAcquire(out var second));
        second.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Theory]
    [InlineData(CircuitBreakerMode.ConsecutiveFailures)]
    [InlineData(CircuitBreakerMode.FailureRatio)]
    public void ProbePermit_ReleasedThenFailed_CountsOnlyTheRelease(CircuitBreakerMode mode)
    {
        var breaker = Create(mode);
        TripAndElapse(breaker);
        Assert.True(breaker.TryAcquire(out var probe));

        probe.Release();
        probe.Failed();

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Theory]
    [InlineData(CircuitBreakerMode.ConsecutiveFailures)]
    [InlineData(CircuitBreakerMode.FailureRatio)]
    public void ClosedPermit_FailedTwice_CountsOnce(CircuitBreakerMode mode)
    {
        var breaker = Create(mode, o => o.MinimumThroughput = 3);
        Assert.True(breaker.TryAcquire(out var permit));

        permit.Failed();
        permit.Failed();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(1, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public void StateChanges_RaisedConcurrently_SequenceRestoresTheOrder()
    {
        var seen = new List<CircuitStateChange>();
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("orders", new CircuitBreakerOptions
        {
            OnStateChanged = c =>
            {
                lock (seen)
                {
                    seen.Add(c);
                }
            },
        }, _time);
        const int Rounds = 2_000;

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                if ((worker + i) % 2 == 0)
                {
                    breaker.Isolate();
                }
                else
                {
                    breaker.Reset();
                }
            }
        });

        seen.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
        Assert.NotEmpty(seen);
        Assert.Equal(breaker.GetSnapshot().Transitions, seen.Count);
        for (int i = 0; i < seen.Count; i++)
        {
            Assert.Equal(i + 1, seen[i].Sequence);
            if (i > 0)
            {
                Assert.Equal(seen[i - 1].To, seen[i].From);
            }
        }

        Assert.Equal(breaker.State, seen[^1].To);
    }
}
