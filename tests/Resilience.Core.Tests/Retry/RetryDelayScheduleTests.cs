using Resilience.Retry;

namespace Resilience.Core.Tests.Retry;

/// <summary>The delay schedule's edges: factors other than 2, the caps, a carried-over jitter state, bad arguments.</summary>
public sealed class RetryDelayScheduleTests
{
    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(100);

    private static RetryOptions Options(RetryBackoff backoff, RetryJitter jitter, double factor = 2.0, TimeSpan? maxDelay = null) => new()
    {
        BaseDelay = BaseDelay,
        MaxDelay = maxDelay ?? TimeSpan.FromDays(1),
        Backoff = backoff,
        BackoffFactor = factor,
        Jitter = jitter,
    };

    /// <summary>
    /// The decorrelated schedule written out independently: V2 (pFactor 4, 1/1.4) rescaled for factor f by
    /// f·ln f / (2 ln 2 · (f − 1)²), which is 1 at f = 2 and, by its limit, 1 at f = 1.
    /// </summary>
    private static TimeSpan[] ReferenceDecorrelated(double factor, int seed, int retries)
    {
        double scale = factor == 2.0 || factor == 1.0
            ? 1 / 1.4d
            : 1 / 1.4d * factor * Math.Log(factor) / (2.0 * Math.Log(2.0) * (factor - 1.0) * (factor - 1.0));
        var random = new Random(seed);
        double previous = 0;
        var delays = new TimeSpan[retries];
        for (int attempt = 1; attempt <= retries; attempt++)
        {
            double t = attempt - 1 + random.NextDouble();
            double next = Math.Pow(factor, t) * Math.Tanh(Math.Sqrt(4.0 * t));
            double ticks = (next - previous) * scale * BaseDelay.Ticks;
            previous = next;
            delays[attempt - 1] = TimeSpan.FromTicks((long)ticks);
        }

        return delays;
    }

    private static TimeSpan[] Schedule(RetryOptions options, int seed, int retries)
    {
        var random = new Random(seed);
        double state = 0;
        var delays = new TimeSpan[retries];
        for (int i = 0; i < retries; i++)
        {
            delays[i] = RetryDelay.Compute(options, i + 1, ref state, random);
        }

        return delays;
    }

    [Theory]
    [InlineData(3.0, 11)]
    [InlineData(1.5, 12)]
    [InlineData(1.0, 13)]
    public void Compute_DecorrelatedOtherFactors_FixedSeed_MatchesRescaledV2(double factor, int seed)
    {
        var expected = ReferenceDecorrelated(factor, seed, 5);

        var actual = Schedule(Options(RetryBackoff.Exponential, RetryJitter.Decorrelated, factor), seed, 5);

        Assert.Equal(expected, actual);
        Assert.All(actual, d => Assert.True(d > TimeSpan.Zero));
    }

    [Fact]
    public void Compute_DecorrelatedFactor1_FirstDelayIsAFractionOfBaseDelay()
    {
        // Factor 1 has no growth: the V2 curve only rises through tanh, so every step stays below the base delay.
        double state = 0;
        var delay = RetryDelay.Compute(Options(RetryBackoff.Exponential, RetryJitter.Decorrelated, 1.0), 1, ref state, new Random(5));

        Assert.InRange(delay, TimeSpan.FromTicks(1), BaseDelay);
        Assert.True(state > 0);
    }

    [Fact]
    public void Compute_DecorrelatedOverflow_ReturnsMaxDelayAndCarriesInfinity()
    {
        var options = Options(RetryBackoff.Exponential, RetryJitter.Decorrelated, 2.0, TimeSpan.FromSeconds(5));
        double state = 0;

        Assert.Equal(TimeSpan.FromSeconds(5), RetryDelay.Compute(options, 5_000, ref state, new Random(3)));
        Assert.True(double.IsPositiveInfinity(state));
        Assert.Equal(TimeSpan.FromSeconds(5), RetryDelay.Compute(options, 5_001, ref state, new Random(3)));
    }

    [Theory]
    [InlineData(1e12)]
    [InlineData(double.PositiveInfinity)]
    public void Compute_DecorrelatedStateAheadOfTheCurve_IsZeroNotNegative(double carried)
    {
        // A state from a longer schedule (or an overflow) makes the step negative or NaN: no delay, never a negative one.
        double state = carried;

        var delay = RetryDelay.Compute(Options(RetryBackoff.Exponential, RetryJitter.Decorrelated), 1, ref state, new Random(9));

        Assert.Equal(TimeSpan.Zero, delay);
        Assert.True(state < carried);
    }

    [Fact]
    public void Compute_DecorrelatedStepAboveMaxDelay_IsCappedToMaxDelay()
    {
        var options = Options(RetryBackoff.Exponential, RetryJitter.Decorrelated, 2.0, TimeSpan.FromMilliseconds(150));

        var delays = Schedule(options, 21, 8);

        Assert.Equal(TimeSpan.FromMilliseconds(150), delays[^1]);
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromMilliseconds(150)));
    }

    [Fact]
    public void Compute_UnboundedMaxDelay_HugeBackoffStaysPositive()
    {
        // Compute takes unvalidated options: a MaxDelay of TimeSpan.MaxValue must not overflow the tick conversion.
        var options = Options(RetryBackoff.Exponential, RetryJitter.None, 2.0, TimeSpan.MaxValue);
        double state = 0;

        var delay = RetryDelay.Compute(options, 200, ref state, new Random(1));

        Assert.Equal(TimeSpan.FromTicks((long)(long.MaxValue - 1_000.0)), delay);
    }

    [Fact]
    public void Compute_LinearFullJitter_IsRandomFractionOfAttemptTimesBase()
    {
        var options = Options(RetryBackoff.Linear, RetryJitter.Full, maxDelay: TimeSpan.FromMilliseconds(250));
        var random = new Random(17);

        var delays = Schedule(options, 17, 3);

        Assert.Equal(TimeSpan.FromTicks((long)(BaseDelay.Ticks * 1 * random.NextDouble())), delays[0]);
        Assert.Equal(TimeSpan.FromTicks((long)(BaseDelay.Ticks * 2 * random.NextDouble())), delays[1]);
        Assert.Equal(TimeSpan.FromTicks((long)(TimeSpan.FromMilliseconds(250).Ticks * random.NextDouble())), delays[2]);
    }

    [Fact]
    public void Compute_ConstantFullJitter_IsAccepted()
    {
        // Only decorrelated jitter needs exponential backoff; full jitter goes with any backoff.
        double state = 0;

        var delay = RetryDelay.Compute(Options(RetryBackoff.Constant, RetryJitter.Full), 1, ref state, new Random(4));

        Assert.Equal(TimeSpan.FromTicks((long)(BaseDelay.Ticks * new Random(4).NextDouble())), delay);
    }

    [Fact]
    public void Compute_DecorrelatedWithConstantBackoff_Throws()
    {
        double state = 0;

        var ex = Assert.Throws<ArgumentException>(
            () => RetryDelay.Compute(Options(RetryBackoff.Constant, RetryJitter.Decorrelated), 1, ref state, new Random(1)));

        Assert.Equal("options", ex.ParamName);
        Assert.Contains("Decorrelated jitter requires exponential backoff", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_NullArguments_Throw()
    {
        double state = 0;
        var options = Options(RetryBackoff.Constant, RetryJitter.None);

        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => RetryDelay.Compute(null!, 1, ref state, new Random(1))).ParamName);
        Assert.Equal("random", Assert.Throws<ArgumentNullException>(() => RetryDelay.Compute(options, 1, ref state, null!)).ParamName);
    }

    [Fact]
    public void Compute_AttemptOne_IsAccepted()
    {
        double state = 0;

        Assert.Equal(BaseDelay, RetryDelay.Compute(Options(RetryBackoff.Exponential, RetryJitter.None), 1, ref state, new Random(1)));
    }
}
