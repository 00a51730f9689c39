namespace Resilience.AdaptiveThrottling;

/// <summary>
/// The pipeline's client-side adaptive throttling: per attempt, outside the circuit breaker, so each retry and each
/// hedged copy is a request it counts, and a request it refuses never asks the breaker.
/// </summary>
internal sealed class AdaptiveThrottlingLayer : PipelineLayer
{
    private readonly AdaptiveThrottler _throttler;
    private readonly Func<Exception, bool>? _shouldHandle;

    private AdaptiveThrottlingLayer(AdaptiveThrottler throttler)
        : base(LayerKind.AdaptiveThrottling, throttler.Options, $"Name={throttler.Name}, Multiplier={throttler.Settings.Multiplier}, Window={throttler.Settings.Window}, MinimumThroughput={throttler.Settings.MinimumThroughput}")
    {
        _throttler = throttler;
        _shouldHandle = throttler.Settings.ShouldHandle;
    }

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        if (!_throttler.TryAdmit(out var probability))
        {
            return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(_throttler.Reject(probability, call.Context, cancellationToken)));
        }

        var pending = call.NextAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            _throttler.Record(EndOf(in outcome, call.ShouldHandleResult, cancellationToken));
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return AwaitAsync(pending, call.ShouldHandleResult, cancellationToken);
    }

    private async ValueTask<Outcome<TResult>> AwaitAsync<TResult>(ValueTask<Outcome<TResult>> pending, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
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

        _throttler.Record(EndOf(in outcome, shouldHandleResult, cancellationToken));
        return outcome;
    }

    private RequestEnd EndOf<TResult>(in Outcome<TResult> outcome, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        if (!outcome.HasException)
        {
            return shouldHandleResult is not null && shouldHandleResult(outcome.Result!) ? RequestEnd.NotAccepted : RequestEnd.Accepted;
        }

        var exception = outcome.Exception!;
        if (exception is ExecutionRejectedException || (exception is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            return RequestEnd.NotSent;
        }

        return _shouldHandle is null || _shouldHandle(exception) ? RequestEnd.NotAccepted : RequestEnd.Accepted;
    }

    /// <summary>The builder's configuration: a shared throttler, or options for one of the pipeline's own.</summary>
    internal sealed class Spec : PipelineLayerSpec
    {
        private readonly AdaptiveThrottler? _throttler;
        private readonly AdaptiveThrottlingOptions? _options;

        public Spec(AdaptiveThrottler throttler) => _throttler = throttler;

        public Spec(AdaptiveThrottlingOptions options)
        {
            AdaptiveThrottlingOptionsValidator.ThrowIfInvalid(options);
            _options = new AdaptiveThrottlingOptions(options);
        }

        public override LayerKind Kind => LayerKind.AdaptiveThrottling;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new AdaptiveThrottlingLayer(_throttler ?? new AdaptiveThrottler(context.Name, _options!, context.TimeProvider, context.Random, context.Logger, context.MeterFactory));
    }
}
