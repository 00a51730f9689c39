using System.Runtime.ExceptionServices;

namespace Resilience.CircuitBreaking;

/// <summary>The pipeline's circuit breaker, a gate: asks for a permit on every attempt and reports how the attempt ended.</summary>
internal sealed class CircuitBreakerLayer : GateLayer
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

    /// <inheritdoc />
    /// <remarks>An open circuit whose break has not elapsed refuses without a lock, a permit or an allocation.</remarks>
    public override bool TryEnter(out GateToken token, out ExceptionDispatchInfo? rejection)
    {
        if (Breaker.TryRefuseFast(out rejection))
        {
            token = default;
            return false;
        }

        if (!Breaker.TryAcquire(out var permit))
        {
            token = default;
            rejection = Breaker.GetCachedRejection(in permit);
            return false;
        }

        token = new GateToken(permit.StartTimestamp, permit.Generation, permit.Kind, permit.Slot);
        rejection = null;
        return true;
    }

    /// <summary>
    /// Runs the breaker straight around <paramref name="operation"/> as a pipeline's only layer: the permit is taken and
    /// reported here, with no virtual gate call and no token to convert on the success path.
    /// </summary>
    public ValueTask<TResult> RunAlone<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        if (!Breaker.TryAcquire(out var permit))
        {
            return Refused<TResult>(in permit);
        }

        var pending = OutcomeInvoker.Start(operation, state, cancellationToken, out var thrown);
        if (thrown is null && pending.IsCompletedSuccessfully)
        {
            var result = pending.Result;
            if (shouldHandleResult is not null && shouldHandleResult(result))
            {
                permit.Failed();
            }
            else
            {
                permit.Succeeded();
            }

            return new ValueTask<TResult>(result);
        }

        return NotDoneAlone(permit, pending, thrown, shouldHandleResult, cancellationToken);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ValueTask<TResult> Refused<TResult>(in CircuitPermit permit) =>
        ValueTask.FromException<TResult>(OutcomeInvoker.ForThrowing(Breaker.GetCachedRejection(in permit).SourceException));

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ValueTask<TResult> NotDoneAlone<TResult>(
        CircuitPermit permit, ValueTask<TResult> pending, Exception? thrown, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        var token = new GateToken(permit.StartTimestamp, permit.Generation, permit.Kind, permit.Slot);
        if (thrown is not null)
        {
            Exit(in token, thrown, resultFailed: false, cancellationToken);
            return ValueTask.FromException<TResult>(thrown);
        }

        return GateRun.ExitWhenDoneAsync(this, pending, token, shouldHandleResult, cancellationToken);
    }

    /// <inheritdoc />
    public override void Exit(in GateToken token, Exception? exception, bool resultFailed, CancellationToken cancellationToken)
    {
        var permit = new CircuitPermit(Breaker, token.Value, token.Generation, token.Kind, token.Slot);
        if (exception is null)
        {
            if (resultFailed)
            {
                permit.Failed();
            }
            else
            {
                permit.Succeeded();
            }
        }
        else if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
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
