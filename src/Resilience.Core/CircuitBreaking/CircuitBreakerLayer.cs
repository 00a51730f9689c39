using System.Runtime.CompilerServices;

namespace Resilience.CircuitBreaking;

/// <summary>The pipeline's circuit breaker: asks for a permit on every attempt, runs the rest of the pipeline, reports how it ended.</summary>
internal sealed class CircuitBreakerLayer : PipelineLayer
{
    private CircuitBreakerLayer(CircuitBreaker breaker)
        : base(LayerKind.CircuitBreaker, breaker.Settings, $"") => Breaker = breaker;

    public CircuitBreaker Breaker { get; }

    /// <inheritdoc />
    /// <remarks>Read from the breaker each time: its options may have been updated since (<see cref="CircuitBreaker.UpdateOptions"/>).</remarks>
    public override object Options => Breaker.Settings;

    /// <inheritdoc />
    public override PipelineLayerDescriptor Describe() =>
        new(LayerKinds.Names[(int)Kind], Breaker.Settings, Summary(Breaker.Name, Breaker.Settings).ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static FormattableString Summary(string name, CircuitBreakerOptions o)
    {
        if (o.Mode == CircuitBreakerMode.ConsecutiveFailures)
        {
            return $"Name={name}, Mode={o.Mode}, FailureThreshold={o.FailureThreshold}, BreakDuration={o.BreakDuration}, MaxBreakDuration={o.MaxBreakDuration}, PermittedProbes={o.PermittedProbes}";
        }

        return $"Name={name}, Mode={o.Mode}, FailureRatio={o.FailureRatio}, SamplingDuration={o.SamplingDuration}, MinimumThroughput={o.MinimumThroughput}, SlowCallThreshold={o.SlowCallThreshold}, BreakDuration={o.BreakDuration}, MaxBreakDuration={o.MaxBreakDuration}, PermittedProbes={o.PermittedProbes}";
    }

    // Inlined down to the open circuit's refusal, so a rejection costs about what TryAcquire does; the permit and the
    // call are out of line (inlined too, they made the caller's frame several times larger).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken) =>
        Breaker.TryRefuseFast(out var rejection)
            ? new ValueTask<Outcome<TResult>>(new Outcome<TResult>(default, rejection))
            : AcquireAndRunAsync(in call, cancellationToken);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<Outcome<TResult>> AcquireAndRunAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        if (!Breaker.TryAcquire(out var permit))
        {
            return new ValueTask<Outcome<TResult>>(new Outcome<TResult>(default, Breaker.GetCachedRejection(in permit)));
        }

        // No try/catch: the layers within and the operation's invoker turn every exception into an outcome, and an exception
        // handler here kept the 32-byte pending result in memory, copied three times per call.
        var pending = call.NextAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            Record(ref permit, in outcome, call.ShouldHandleResult, cancellationToken);
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return AwaitAsync(pending, permit, call.ShouldHandleResult, cancellationToken);
    }

    // Pooled: an I/O call completes asynchronously, and each layer's state machine would otherwise be a new box per call.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome<TResult>> AwaitAsync<TResult>(ValueTask<Outcome<TResult>> pending, CircuitPermit permit, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        Outcome<TResult> outcome;
        try
        {
            outcome = await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            outcome = Outcome.FromException<TResult>(e);
        }

        Record(ref permit, in outcome, shouldHandleResult, cancellationToken);
        return outcome;
    }

    private void Record<TResult>(ref CircuitPermit permit, in Outcome<TResult> outcome, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        if (outcome.HasException)
        {
            RecordException(ref permit, outcome.Exception!, cancellationToken);
        }
        else if (shouldHandleResult is not null && shouldHandleResult(outcome.Result!))
        {
            permit.Failed();
        }
        else
        {
            permit.Succeeded();
        }
    }

    private void RecordException(ref CircuitPermit permit, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            permit.Release();
        }
        else if (Breaker.ShouldHandle is not { } shouldHandle || shouldHandle(exception))
        {
            permit.Failed(exception);
        }
        else
        {
            permit.Succeeded();
        }
    }

    /// <summary>The builder's configuration: a shared breaker, or options for one of the pipeline's own.</summary>
    internal sealed class Spec : PipelineLayerSpec
    {
        private readonly CircuitBreaker? _breaker;
        private readonly CircuitBreakerOptions? _options;

        public Spec(CircuitBreaker breaker) => _breaker = breaker;

        public Spec(CircuitBreakerOptions options) => _options = options;

        public override LayerKind Kind => LayerKind.CircuitBreaker;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new CircuitBreakerLayer(_breaker ?? new CircuitBreaker(context.Name, _options!, context.TimeProvider, context.Logger, context.MeterFactory));
    }
}
