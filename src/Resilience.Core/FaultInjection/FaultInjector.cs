using Microsoft.Extensions.Options;

namespace Resilience.FaultInjection;

/// <summary>
/// The run-time handle of a pipeline's fault injection: keep it to switch faults on and off while the pipeline runs
/// (e.g. from a test, or a demo). Thread-safe; one injector may serve several pipelines.
/// </summary>
public sealed class FaultInjector
{
    private volatile bool _enabled;
    private double _exceptionRate;
    private double _latencyRate;
    private double _resultRate;

    /// <summary>Initializes a new instance of the <see cref="FaultInjector"/> class.</summary>
    /// <param name="options">What to inject; copied and validated here. Use <see cref="FaultInjectionOptions{TResult}"/> to inject results.</param>
    /// <exception cref="OptionsValidationException">A rate is outside 0–1, the latency is negative, or a result rate has no result; the message lists every error.</exception>
    public FaultInjector(FaultInjectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        FaultInjectionOptionsValidator.ThrowIfInvalid(options);
        Options = options.Clone();
        _enabled = options.Enabled;
        _exceptionRate = options.ExceptionRate;
        _latencyRate = options.LatencyRate;
        _resultRate = options.InjectedResultRate;
    }

    /// <summary>Gets or sets whether faults are injected now. While off, an attempt costs one field read.</summary>
    public bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    /// <summary>Gets or sets the probability, from 0 to 1, that an attempt fails with the injected exception; changes apply to the next attempt.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0–1.</exception>
    public double ExceptionRate
    {
        get => Volatile.Read(ref _exceptionRate);
        set => Volatile.Write(ref _exceptionRate, CheckRate(value));
    }

    /// <summary>Gets or sets the probability, from 0 to 1, that an attempt waits the injected latency first; changes apply to the next attempt.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0–1.</exception>
    public double LatencyRate
    {
        get => Volatile.Read(ref _latencyRate);
        set => Volatile.Write(ref _latencyRate, CheckRate(value));
    }

    /// <summary>Gets or sets the probability, from 0 to 1, that an attempt returns the injected result (<see cref="FaultInjectionOptions{TResult}.Result"/>); changes apply to the next attempt.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0–1, or above 0 when the options inject no result.</exception>
    public double ResultRate
    {
        get => Volatile.Read(ref _resultRate);
        set => Volatile.Write(ref _resultRate, value > 0 && Options.InjectedResult is null
            ? throw new ArgumentOutOfRangeException(nameof(value), value, "The options inject no result: create the injector with FaultInjectionOptions<TResult> and a Result.")
            : CheckRate(value));
    }

    /// <summary>Gets a copy of the options the injector was created with.</summary>
    public FaultInjectionOptions Options { get; }

    private static double CheckRate(double rate, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(rate))] string? name = null) =>
        rate is >= 0 and <= 1 ? rate : throw new ArgumentOutOfRangeException(name, rate, "A rate is a probability from 0 to 1.");
}
