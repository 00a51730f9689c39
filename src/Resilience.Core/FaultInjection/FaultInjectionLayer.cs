using Resilience.Telemetry;

namespace Resilience.FaultInjection;

/// <summary>
/// Injects faults in place of the operation. Innermost, so everything the pipeline does about a real fault happens to an
/// injected one: the attempt timeout cuts injected latency, the breaker counts injected failures, retry retries them.
/// </summary>
internal sealed class FaultInjectionLayer : PipelineLayer
{
    private readonly FaultInjector _injector;
    private readonly FaultInjectionOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly Random _random;
    private readonly string _name;
    private readonly FaultInjectionTelemetry _telemetry;

    private FaultInjectionLayer(string name, FaultInjector injector, TimeProvider timeProvider, Random random, FaultInjectionTelemetry telemetry)
        : base(
            LayerKind.FaultInjection,
            injector.Options,
            $"ExceptionRate={injector.Options.ExceptionRate}, LatencyRate={injector.Options.LatencyRate}, Latency={injector.Options.Latency}, ResultRate={injector.Options.InjectedResultRate}")
    {
        _injector = injector;
        _options = injector.Options;
        _timeProvider = timeProvider;
        _random = random;
        _name = name;
        _telemetry = telemetry;
    }

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        if (!_injector.Enabled || (_options.EnabledGenerator is { } enabled && !enabled(call.GetOrCreateContext(cancellationToken))))
        {
            return call.NextAsync(cancellationToken);
        }

        return Roll(_injector.LatencyRate) && _options.Latency > TimeSpan.Zero
            ? DelayThenInjectAsync(call, cancellationToken)
            : Inject(in call, cancellationToken);
    }

    private ValueTask<Outcome<TResult>> Inject<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        if (Roll(_injector.ExceptionRate))
        {
            _telemetry.RecordInjected(_name, "exception");
            return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(_options.Exception?.Invoke() ?? new InjectedFaultException()));
        }

        // The result is typed by the options, not the call: a pipeline whose result type differs never gets one (nor rolls
        // for it); at most one of the two factories matches.
        var injected = _options.InjectedResult;
        if (injected is Func<ResilienceContext, TResult> generator && Roll(_injector.ResultRate))
        {
            _telemetry.RecordInjected(_name, "result");
            return new ValueTask<Outcome<TResult>>(Outcome.FromResult(generator(call.GetOrCreateContext(cancellationToken))));
        }

        if (injected is Func<TResult> result && Roll(_injector.ResultRate))
        {
            _telemetry.RecordInjected(_name, "result");
            return new ValueTask<Outcome<TResult>>(Outcome.FromResult(result()));
        }

        return call.NextAsync(cancellationToken);
    }

    private async ValueTask<Outcome<TResult>> DelayThenInjectAsync<TState, TResult>(PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        _telemetry.RecordInjected(_name, "latency");
        try
        {
            await Task.Delay(_options.Latency, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            return Outcome.FromException<TResult>(e);
        }

        return await Inject(in call, cancellationToken).ConfigureAwait(false);
    }

    private bool Roll(double rate)
    {
        if (rate <= 0)
        {
            return false;
        }

        if (rate >= 1)
        {
            return true;
        }

        if (ReferenceEquals(_random, Random.Shared))
        {
            return _random.NextDouble() < rate;
        }

        // A caller's seeded source is not thread-safe.
        lock (_random)
        {
            return _random.NextDouble() < rate;
        }
    }

    /// <summary>The builder's configuration: the caller's injector, kept for switching at run time.</summary>
    internal sealed class Spec(FaultInjector injector) : PipelineLayerSpec
    {
        public override LayerKind Kind => LayerKind.FaultInjection;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new FaultInjectionLayer(context.Name, injector, context.TimeProvider, context.Random, ResilienceMeter.Instruments<FaultInjectionTelemetry>(context.MeterFactory));
    }
}
