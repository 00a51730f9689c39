using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;

namespace Resilience.Core.Tests.CircuitBreaking;

public sealed class FailureRatioTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private global::Resilience.CircuitBreaking.CircuitBreaker Create(Action<CircuitBreakerOptions>? configure = null)
    {
        var options = new CircuitBreakerOptions
        {
            Mode = CircuitBreakerMode.FailureRatio,
            FailureRatio = 0.5,
            MinimumThroughput = 10,
            SamplingDuration = TimeSpan.FromSeconds(10),
            SamplingBuckets = 10,
        };
        configure?.Invoke(options);
        return new global::Resilience.CircuitBreaking.CircuitBreaker("ratio", options, _time);
    }

    private static void Record(global::Resilience.CircuitBreaking.CircuitBreaker breaker, int successes, int failures)
    {
        for (var i = 0; i < successes; i++)
        {
            Assert.True(breaker.TryAcquire(out var p));
            p.Succeeded();
        }

        for (var i = 0; i < failures; i++)
        {
            Assert.True(breaker.TryAcquire(out var p));
            p.Failed();
        }
    }

    [Fact]
    public void Ratio_BelowMinimumThroughput_StaysClosed()
    {
        var breaker = Create();
        Record(breaker, 0, 9);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(9, breaker.GetSnapshot().Failures);
        Assert.Equal(9, breaker.GetSnapshot().Calls);
    }

    [Fact]
    public void Ratio_ReachedWithThroughput_Opens()
    {
        var changes = new List<CircuitStateChange>();
        var breaker = Create(o => o.OnStateChanged = changes.Add);
        Record(breaker, 5, 4);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Record(breaker, 0, 1);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(CircuitTransitionReason.FailureRatio, Assert.Single(changes).Reason);
    }

    [Fact]
    public void Ratio_BelowRatio_StaysClosed()
    {
        var breaker = Create();
        Record(breaker, 60, 40);
        Assert.Equal(CircuitState.Closed, breaker.State);
        var snapshot = breaker.GetSnapshot();
        Assert.Equal(40, snapshot.Failures);
        Assert.Equal(100, snapshot.Calls);
    }

    [Fact]
    public void Ratio_OldFailuresLeaveTheWindow_DoNotCount()
    {
        var breaker = Create();
        Record(breaker, 0, 9);
        _time.Advance(TimeSpan.FromSeconds(5));
        Record(breaker, 5, 0);
        Assert.Equal(14, breaker.GetSnapshot().Calls);
        _time.Advance(TimeSpan.FromSeconds(5));

        // The 9 failures are now 10 s old: only the 5 successes remain in the window.
        var snapshot = breaker.GetSnapshot();
        Assert.Equal(0, snapshot.Failures);
        Assert.Equal(5, snapshot.Calls);
        Record(breaker, 0, 4);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Record(breaker, 0, 1);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Ratio_BucketReusedAfterFullRotation_StartsFromZero()
    {
        var breaker = Create();
        Record(breaker, 3, 3);
        _time.Advance(TimeSpan.FromSeconds(30));
        Record(breaker, 1, 0);
        var snapshot = breaker.GetSnapshot();
        Assert.Equal(1, snapshot.Calls);
        Assert.Equal(0, snapshot.Failures);
    }

    [Fact]
    public void Ratio_HalfOpenProbeSucceeds_ClosesWithEmptyWindow()
    {
        var breaker = Create();
        Record(breaker, 0, 10);
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(breaker.TryAcquire(out var probe));
        probe.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSnapshot().Calls);
    }

    [Fact]
    public void Ratio_SlowCalls_CountAsFailures()
    {
        var breaker = Create(o => o.SlowCallThreshold = TimeSpan.FromMilliseconds(500));
        for (var i = 0; i < 10; i++)
        {
            Assert.True(breaker.TryAcquire(out var p));
            _time.Advance(TimeSpan.FromMilliseconds(i >= 5 ? 600 : 10));
            p.Succeeded();
        }

        Assert.Equal(CircuitState.Open, breaker.State);
    }
}
