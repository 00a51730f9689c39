namespace Resilience.FaultInjection;

/// <summary>What a <see cref="FaultInjector"/> injects, and how often: an exception, latency, or (typed) a result.</summary>
/// <remarks>Each rate is the probability, from 0 to 1, that one attempt gets that fault; the rolls are independent.</remarks>
public class FaultInjectionOptions
{
    /// <summary>Initializes a new instance of the <see cref="FaultInjectionOptions"/> class with nothing injected.</summary>
    public FaultInjectionOptions()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FaultInjectionOptions"/> class, a copy of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public FaultInjectionOptions(FaultInjectionOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Enabled = other.Enabled;
        ExceptionRate = other.ExceptionRate;
        Exception = other.Exception;
        LatencyRate = other.LatencyRate;
        Latency = other.Latency;
        EnabledGenerator = other.EnabledGenerator;
    }

    /// <summary>Gets or sets whether faults are injected from the start; switch at run time with <see cref="FaultInjector.Enabled"/>.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the probability that an attempt fails with <see cref="Exception"/>'s exception instead of running.</summary>
    /// <value>Default: 0.</value>
    public double ExceptionRate { get; set; }

    /// <summary>Gets or sets what an injected exception is; a new one per fault.</summary>
    /// <value>Default: <see langword="null"/>, an <see cref="InjectedFaultException"/>.</value>
    public Func<Exception>? Exception { get; set; }

    /// <summary>Gets or sets the probability that an attempt waits <see cref="Latency"/> before it runs (on the pipeline's <see cref="TimeProvider"/>).</summary>
    /// <value>Default: 0.</value>
    public double LatencyRate { get; set; }

    /// <summary>Gets or sets how long an injected delay lasts; the attempt's token cuts it short.</summary>
    /// <value>Default: zero.</value>
    public TimeSpan Latency { get; set; }

    /// <summary>Gets or sets a per-call switch, asked on every attempt while the injector is enabled: faults are injected only into calls it accepts.</summary>
    /// <value>Default: <see langword="null"/>: every call while enabled.</value>
    /// <remarks>Pick the calls from their context, e.g. <c>ctx => ctx.OperationKey == "checkout"</c>, or from a property a test sets.</remarks>
    public Func<ResilienceContext, bool>? EnabledGenerator { get; set; }

    /// <summary>Gets the typed result's rate, for the layer that cannot name the type.</summary>
    internal virtual double InjectedResultRate => 0;

    /// <summary>Gets the typed result's factory (a <see cref="Func{TResult}"/>), if any.</summary>
    internal virtual Delegate? InjectedResult => null;

    internal virtual FaultInjectionOptions Clone() => new(this);
}

/// <summary>Fault injection for operations returning <typeparamref name="TResult"/>: also a result that replaces the operation's.</summary>
/// <typeparam name="TResult">The type of the operation's result.</typeparam>
public sealed class FaultInjectionOptions<TResult> : FaultInjectionOptions
{
    /// <summary>Initializes a new instance of the <see cref="FaultInjectionOptions{TResult}"/> class with nothing injected.</summary>
    public FaultInjectionOptions()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FaultInjectionOptions{TResult}"/> class, a copy of <paramref name="other"/>'s untyped options.</summary>
    /// <param name="other">The options to copy.</param>
    public FaultInjectionOptions(FaultInjectionOptions other)
        : base(other)
    {
    }

    /// <summary>Gets or sets the probability that an attempt returns <see cref="Result"/>'s value instead of running (e.g. an HTTP 503).</summary>
    /// <value>Default: 0.</value>
    public double ResultRate { get; set; }

    /// <summary>Gets or sets the injected result; a new one per fault.</summary>
    /// <value>Default: <see langword="null"/> (required when <see cref="ResultRate"/> is above 0).</value>
    public Func<TResult>? Result { get; set; }

    /// <summary>Gets or sets the injected result made from the call's context (e.g. a response that names the call's request), in place of <see cref="Result"/>; a new one per fault.</summary>
    /// <value>Default: <see langword="null"/>: <see cref="Result"/> makes it.</value>
    public Func<ResilienceContext, TResult>? ResultGenerator { get; set; }

    internal override double InjectedResultRate => ResultRate;

    internal override Delegate? InjectedResult => (Delegate?)ResultGenerator ?? Result;

    internal override FaultInjectionOptions Clone() => new FaultInjectionOptions<TResult>(this) { ResultRate = ResultRate, Result = Result, ResultGenerator = ResultGenerator };
}
