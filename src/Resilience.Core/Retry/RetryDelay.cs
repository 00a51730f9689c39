namespace Resilience.Retry;

/// <summary>The retry delay schedule as a pure function, so it can be tested and reasoned about in isolation.</summary>
public static class RetryDelay
{
    /// <summary>Computes the delay before retry <paramref name="attempt"/>.</summary>
    /// <param name="options">The backoff, jitter and delay settings.</param>
    /// <param name="attempt">The retry number, starting at 1.</param>
    /// <param name="jitterState">
    /// The state carried from one retry to the next by decorrelated jitter; start each call's schedule at 0.
    /// </param>
    /// <param name="random">The random source; seed it for a reproducible schedule.</param>
    /// <returns>A delay between zero and <see cref="RetryOptions.MaxDelay"/>.</returns>
    /// <exception cref="ArgumentException">Decorrelated jitter is combined with a non-exponential backoff.</exception>
    public static TimeSpan Compute(RetryOptions options, int attempt, ref double jitterState, Random random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        if (options.Jitter == RetryJitter.Decorrelated && options.Backoff != RetryBackoff.Exponential)
        {
            throw new ArgumentException("Decorrelated jitter requires exponential backoff.", nameof(options));
        }

        var schedule = new RetrySchedule(options);
        return schedule.Compute(attempt, ref jitterState, random);
    }
}

/// <summary>An immutable copy of the delay settings, with the decorrelated-jitter scale precomputed.</summary>
internal readonly struct RetrySchedule
{
    // Smooths the first delay of the V2 formula (its pFactor).
    private const double PFactor = 4.0;

    // Scales V2's medians to near whole multiples of the base delay (its rpScalingFactor, for factor 2).
    private const double RpScalingFactor = 1 / 1.4d;

    // Keeps the double → long conversion below TimeSpan.MaxValue.
    private const double MaxTicks = long.MaxValue - 1_000.0;

    private readonly double _baseTicks;
    private readonly double _maxTicks;
    private readonly double _factor;
    private readonly double _decorrelatedScale;
    private readonly RetryBackoff _backoff;
    private readonly RetryJitter _jitter;

    public RetrySchedule(RetryOptions options)
    {
        _baseTicks = options.BaseDelay.Ticks;
        _maxTicks = Math.Min(options.MaxDelay.Ticks, MaxTicks);
        _factor = options.BackoffFactor;
        _backoff = options.Backoff;
        _jitter = options.Jitter;
        _decorrelatedScale = DecorrelatedScale(_factor);
        MaxDelay = options.MaxDelay;
    }

    public TimeSpan MaxDelay { get; }

    /// <summary>
    /// V2 was tuned for factor 2. For another factor f, the mean step of <c>f^t·tanh(√(4t))</c> between two retries is
    /// <c>f^(n−1)·(f−1)²/ln f</c>; rescaling by <c>f·ln f / (2 ln 2 · (f−1)²)</c> keeps the same relation to the
    /// exponential curve as V2 has at f = 2, where the scale is exactly the original's.
    /// </summary>
    private static double DecorrelatedScale(double factor)
    {
        if (factor == 2.0 || factor <= 1.0)
        {
            return RpScalingFactor;
        }

        double lnF = Math.Log(factor);
        return RpScalingFactor * factor * lnF / (2.0 * Math.Log(2.0) * (factor - 1.0) * (factor - 1.0));
    }

    public TimeSpan Compute(int attempt, ref double jitterState, Random random)
    {
        if (_jitter == RetryJitter.Decorrelated)
        {
            return DecorrelatedV2(attempt, ref jitterState, random);
        }

        double ticks = _backoff switch
        {
            RetryBackoff.Constant => _baseTicks,
            RetryBackoff.Linear => _baseTicks * attempt,
            _ => _baseTicks * Math.Pow(_factor, attempt - 1),
        };

        // Min also turns +∞ (a huge exponent) into the cap.
        ticks = Math.Min(ticks, _maxTicks);
        if (_jitter == RetryJitter.Full)
        {
            ticks *= random.NextDouble();
        }

        return TimeSpan.FromTicks((long)ticks);
    }

    private TimeSpan DecorrelatedV2(int attempt, ref double previous, Random random)
    {
        double t = attempt - 1 + random.NextDouble();
        double next = Math.Pow(_factor, t) * Math.Tanh(Math.Sqrt(PFactor * t));
        if (double.IsInfinity(next))
        {
            previous = next;
            return TimeSpan.FromTicks((long)_maxTicks);
        }

        double step = next - previous;
        previous = next;
        double ticks = step * _decorrelatedScale * _baseTicks;

        // NaN (∞ − ∞ after an overflow) and negatives cannot happen with a fresh state; clamp anyway.
        if (!(ticks > 0))
        {
            return TimeSpan.Zero;
        }

        return TimeSpan.FromTicks((long)Math.Min(ticks, _maxTicks));
    }
}
