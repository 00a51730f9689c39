using Microsoft.Extensions.Options;

namespace Resilience.FaultInjection;

/// <summary>
/// The run-time handle of a pipeline's fault injection: keep it to switch faults on and off while the pipeline runs
/// (e.g. from a test, or a demo). Thread-safe; one injector may serve several pipelines.
/// </summary>
public sealed class FaultInjector
{
    private volatile bool _enabled;

    /// <summary>Initializes a new instance of the <see cref="FaultInjector"/> class.</summary>
    /// <param name="options">What to inject; copied and validated here. Use <see cref="FaultInjectionOptions{TResult}"/> to inject results.</param>
    /// <exception cref="OptionsValidationException">A rate is outside 0–1, the latency is negative, or a result rate has no result; the message lists every error.</exception>
    public FaultInjector(FaultInjectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        FaultInjectionOptionsValidator.ThrowIfInvalid(options);
        Options = options.Clone();
        _enabled = options.Enabled;
    }

    /// <summary>Gets or sets whether faults are injected now. While off, an attempt costs one field read.</summary>
    public bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    /// <summary>Gets a copy of the options the injector was created with.</summary>
    public FaultInjectionOptions Options { get; }
}
