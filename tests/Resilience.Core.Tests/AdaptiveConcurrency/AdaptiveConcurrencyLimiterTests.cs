using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.AdaptiveConcurrency;

namespace Resilience.Core.Tests.AdaptiveConcurrency;

/// <summary>The limit's algorithm, driven window by window on a fake clock: each window admits calls up to the demand, advances the clock by their latency, and releases them.</summary>
public sealed class AdaptiveConcurrencyLimiterTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void Limit_LatencyRisesUnderLoad_Shrinks()
    {
        var time = new FakeTimeProvider();
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions { InitialLimit = 40 }, time);
        RunWindows(limiter, time, windows: 10, demand: 40, latency: TimeSpan.FromMilliseconds(10));
        var before = limiter.Limit;

        RunWindows(limiter, time, windows: 10, demand: 100, latency: TimeSpan.FromMilliseconds(60));

        Assert.True(limiter.Limit < before * 0.6, $"limit {limiter.Limit} after latency rose 6x from a limit of {before}");
    }

    [Fact]
    public void Limit_LatencySteadyAndDemandAtTheLimit_Grows()
    {
        var time = new FakeTimeProvider();
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions { InitialLimit = 10 }, time);

        RunWindows(limiter, time, windows: 20, demand: 1000, latency: TimeSpan.FromMilliseconds(10));

        Assert.True(limiter.Limit > 15, $"limit {limiter.Limit} after 20 busy windows at steady latency");
    }

    [Fact]
    public void Limit_DemandFarBelowIt_StaysWhereItIs()
    {
        var time = new FakeTimeProvider();
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions { InitialLimit = 40 }, time);

        RunWindows(limiter, time, windows: 20, demand: 12, latency: TimeSpan.FromMilliseconds(10));

        Assert.Equal(40, limiter.Limit);
    }

    [Fact]
    public void Limit_StaysWithinMinAndMax()
    {
        var time = new FakeTimeProvider();
        // No baseline probe within the test: latency that stays at 2 s whatever the load would be measured as the new normal.
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions { InitialLimit = 10, MinLimit = 5, MaxLimit = 12, BaselineInterval = TimeSpan.FromHours(1) }, time);

        RunWindows(limiter, time, windows: 40, demand: 1000, latency: TimeSpan.FromMilliseconds(10));
        Assert.Equal(12, limiter.Limit);

        RunWindows(limiter, time, windows: 40, demand: 1000, latency: TimeSpan.FromSeconds(2));
        Assert.Equal(5, limiter.Limit);
    }

    [Fact]
    public void Limit_AfterOverloadEnds_GrowsBack()
    {
        var time = new FakeTimeProvider();
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions { InitialLimit = 40 }, time);
        RunWindows(limiter, time, windows: 10, demand: 100, latency: TimeSpan.FromMilliseconds(10));
        RunWindows(limiter, time, windows: 30, demand: 100, latency: TimeSpan.FromMilliseconds(80));
        var shrunk = limiter.Limit;

        RunWindows(limiter, time, windows: 40, demand: 100, latency: TimeSpan.FromMilliseconds(10));

        Assert.True(limiter.Limit > shrunk * 1.5, $"limit {limiter.Limit} after recovery from {shrunk}");
    }

    [Fact]
    public void Limit_CutOnce_CallsAdmittedBeforeTheCutDoNotCutItAgain()
    {
        var time = new FakeTimeProvider();
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions { InitialLimit = 40, BaselineInterval = TimeSpan.FromHours(1) }, time);
        RunWindows(limiter, time, windows: 3, demand: 40, latency: TimeSpan.FromMilliseconds(10));

        // One more call closes the last window (its calls came back before it was due).
        time.Advance(Window);
        Assert.True(limiter.TryAcquire(CallPriority.Normal));
        limiter.Release(limiter.Start(), CallEnd.Completed);
        var before = limiter.Limit;
        var started = new List<long>();
        while (limiter.TryAcquire(CallPriority.Normal))
        {
            started.Add(limiter.Start());
        }

        // Half the cohort comes back 12 times slower: one cut, at once, by the gradient's floor (a quarter off).
        time.Advance(TimeSpan.FromMilliseconds(120));
        foreach (var start in started[..(started.Count / 2)])
        {
            limiter.Release(start, CallEnd.Completed);
        }

        var cut = limiter.Limit;

        // The rest of the same cohort, slower still: admitted under the old limit, it says nothing about the new one.
        time.Advance(TimeSpan.FromMilliseconds(120));
        foreach (var start in started[(started.Count / 2)..])
        {
            limiter.Release(start, CallEnd.Completed);
        }

        Assert.Equal(before * 0.75, cut, tolerance: 1);
        Assert.Equal(cut, limiter.Limit);
    }

    [Fact]
    public void MaxQueueWait_BaselineMeasured_IsHalfTheNoLoadLatency()
    {
        var time = new FakeTimeProvider();
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions { InitialLimit = 40 }, time);
        Assert.Equal(TimeSpan.FromMilliseconds(250), limiter.MaxQueueWait);

        RunWindows(limiter, time, windows: 3, demand: 40, latency: TimeSpan.FromMilliseconds(10));

        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.MaxQueueWait);
    }

    [Fact]
    public void Baseline_DependencyGotSlowerForGood_IsMeasuredAgainAndTheLimitRecovers()
    {
        var time = new FakeTimeProvider();
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions { InitialLimit = 40, BaselineInterval = TimeSpan.FromSeconds(3) }, time);
        RunWindows(limiter, time, windows: 5, demand: 100, latency: TimeSpan.FromMilliseconds(10));

        // From now on every call takes 40 ms however few run: against the old 10 ms baseline the limit falls.
        RunWindows(limiter, time, windows: 20, demand: 100, latency: TimeSpan.FromMilliseconds(40));
        var beforeProbe = limiter.Limit;

        // The probe (due 3 s in) measures 40 ms with the limit at its minimum; from then on 40 ms is no overload.
        RunWindows(limiter, time, windows: 60, demand: 100, latency: TimeSpan.FromMilliseconds(40));

        Assert.True(beforeProbe < 20, $"limit {beforeProbe} before the probe");
        Assert.True(limiter.Limit > beforeProbe * 2, $"limit {limiter.Limit} after the probe, {beforeProbe} before");
    }

    [Fact]
    public void Timeouts_WithoutLatencySamples_ShrinkTheLimit()
    {
        var time = new FakeTimeProvider();
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions { InitialLimit = 20 }, time);

        for (var window = 0; window < 10; window++)
        {
            Assert.True(limiter.TryAcquire(CallPriority.Normal));
            var started = limiter.Start();
            time.Advance(Window);
            limiter.Release(started, CallEnd.TimedOut);
        }

        Assert.True(limiter.Limit < 20, $"limit {limiter.Limit} after ten windows of timeouts");
    }

    [Fact]
    public void OnLimitChanged_ToldThePreviousAndNewLimit_AndAThrowingCallbackDoesNotFailTheCall()
    {
        var time = new FakeTimeProvider();
        var changes = new List<ConcurrencyLimitChangedArguments>();
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions
        {
            InitialLimit = 10,
            OnLimitChanged = a =>
            {
                changes.Add(a);
                throw new InvalidOperationException("callback bug");
            },
        }, time);

        RunWindows(limiter, time, windows: 5, demand: 1000, latency: TimeSpan.FromMilliseconds(10));

        Assert.NotEmpty(changes);
        Assert.Equal(10, changes[0].PreviousLimit);
        Assert.Equal(changes[^1].Limit, limiter.Limit);
        Assert.Equal("db", changes[0].LimiterName);
    }

    [Fact]
    public void Sheddable_MayUseOnlyItsShareOfTheLimit()
    {
        var limiter = new AdaptiveConcurrencyLimiter("db", new AdaptiveConcurrencyOptions { InitialLimit = 8, MinLimit = 8, MaxLimit = 8, SheddableShare = 0.5 });

        for (var i = 0; i < 4; i++)
        {
            Assert.True(limiter.TryAcquire(CallPriority.Sheddable));
        }

        Assert.False(limiter.TryAcquire(CallPriority.Sheddable));
        Assert.True(limiter.TryAcquire(CallPriority.Normal));
        Assert.Equal(5, limiter.InFlight);
    }

    [Theory]
    [InlineData(nameof(AdaptiveConcurrencyOptions.MinLimit), "MinLimit (0) must be at least 1.")]
    [InlineData(nameof(AdaptiveConcurrencyOptions.InitialLimit), "InitialLimit (5000) must be between MinLimit (2) and MaxLimit (1000).")]
    [InlineData(nameof(AdaptiveConcurrencyOptions.Smoothing), "Smoothing (0) must be above 0 and at most 1.")]
    public void Options_OutOfRange_AreRefusedWithTheRule(string key, string message)
    {
        var options = new AdaptiveConcurrencyOptions();
        switch (key)
        {
            case nameof(AdaptiveConcurrencyOptions.MinLimit): options.MinLimit = 0; break;
            case nameof(AdaptiveConcurrencyOptions.InitialLimit): options.InitialLimit = 5000; break;
            default: options.Smoothing = 0; break;
        }

        var error = Assert.Throws<OptionsValidationException>(() => new AdaptiveConcurrencyLimiter("db", options));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    /// <summary>Each window: admit up to <paramref name="demand"/> calls, let <paramref name="latency"/> pass, release them all.</summary>
    private static void RunWindows(AdaptiveConcurrencyLimiter limiter, FakeTimeProvider time, int windows, int demand, TimeSpan latency)
    {
        var step = latency < Window ? Window : latency;
        for (var window = 0; window < windows; window++)
        {
            var started = new List<long>();
            for (var i = 0; i < demand && limiter.TryAcquire(CallPriority.Normal); i++)
            {
                started.Add(limiter.Start());
            }

            time.Advance(latency);
            foreach (var start in started)
            {
                limiter.Release(start, CallEnd.Completed);
            }

            time.Advance(step - latency);
        }
    }
}
