using Resilience.Timeouts;

namespace Resilience.AdaptiveConcurrency;

/// <summary>
/// The pipeline's adaptive concurrency limit: by default per call, inside the rate limiter and outside the total timeout (so
/// queueing for a slot is not billed to the call); with <see cref="AdaptiveConcurrencyOptions.PerAttempt"/>, per attempt,
/// inside retry and hedging and outside the breaker. A call over the limit waits in the short queue or is refused as an outcome.
/// </summary>
internal sealed class AdaptiveConcurrencyLayer : PipelineLayer
{
    private readonly AdaptiveConcurrencyLimiter _limiter;
    private readonly bool _classifies;

    // One copy of the limiter's options serves as the descriptor's options and its summary.
    private AdaptiveConcurrencyLayer(AdaptiveConcurrencyLimiter limiter, AdaptiveConcurrencyOptions options)
        : base(KindOf(options.PerAttempt), options, $"Name={limiter.Name}, MinLimit={options.MinLimit}, MaxLimit={options.MaxLimit}, QueueLimit={options.QueueLimit}, MaxQueueWait={options.MaxQueueWait}")
    {
        _limiter = limiter;
        _classifies = options.ClassifyFailure is not null;
    }

    private AdaptiveConcurrencyLayer(AdaptiveConcurrencyLimiter limiter)
        : this(limiter, limiter.Options)
    {
    }

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        var priority = PriorityOf(call.Context);
        return _limiter.TryAcquire(priority) ? Run(in call, cancellationToken) : WaitThenRunAsync(call, priority, cancellationToken);
    }

    // Only a context that carries properties is asked: reading Properties of an empty one would create the bag.
    private static CallPriority PriorityOf(ResilienceContext? context) =>
        context is { HasProperties: true } ? context.Properties.GetValue(AdaptiveConcurrencyLimiter.PriorityKey, CallPriority.Normal) : CallPriority.Normal;

    private ValueTask<Outcome<TResult>> Run<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        var started = _limiter.Start();
        var pending = call.NextAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            _limiter.Release(started, EndOf(in outcome, cancellationToken));
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return AwaitAsync(pending, started, cancellationToken);
    }

    private async ValueTask<Outcome<TResult>> AwaitAsync<TResult>(ValueTask<Outcome<TResult>> pending, long started, CancellationToken cancellationToken)
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

        _limiter.Release(started, EndOf(in outcome, cancellationToken));
        return outcome;
    }

    private async ValueTask<Outcome<TResult>> WaitThenRunAsync<TState, TResult>(PipelineCall<TState, TResult> call, CallPriority priority, CancellationToken cancellationToken)
    {
        if (priority == CallPriority.Sheddable)
        {
            return Outcome.FromException<TResult>(_limiter.Reject(priority, AdaptiveConcurrencyTelemetry.ReasonSheddable, waited: false));
        }

        AdaptiveConcurrencyLimiter.WaitResult result;
        try
        {
            result = await _limiter.WaitAsync(priority, WaitLimit(), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            return Outcome.FromException<TResult>(e);
        }

        return result switch
        {
            AdaptiveConcurrencyLimiter.WaitResult.Granted => await Run(in call, cancellationToken).ConfigureAwait(false),
            AdaptiveConcurrencyLimiter.WaitResult.QueueFull => Outcome.FromException<TResult>(_limiter.Reject(priority, AdaptiveConcurrencyTelemetry.ReasonQueueFull, waited: false)),
            _ => Outcome.FromException<TResult>(_limiter.Reject(priority, AdaptiveConcurrencyTelemetry.ReasonWaitExpired, waited: true)),
        };
    }

    // The queue's wait also ends at the ambient deadline of the work the call belongs to (Deadline.RunAsync).
    private TimeSpan WaitLimit()
    {
        var wait = _limiter.MaxQueueWait;
        var left = AmbientDeadline.TimeLeft();
        return left == Timeout.InfiniteTimeSpan || left >= wait ? wait : left < TimeSpan.Zero ? TimeSpan.Zero : left;
    }

    /// <summary>The slot the limit takes in the order: the whole call's, or each attempt's.</summary>
    private static LayerKind KindOf(bool perAttempt) => perAttempt ? LayerKind.AdaptiveConcurrencyPerAttempt : LayerKind.AdaptiveConcurrency;

    private CallEnd EndOf<TResult>(in Outcome<TResult> outcome, CancellationToken cancellationToken)
    {
        if (!outcome.HasException)
        {
            return CallEnd.Completed;
        }

        return outcome.Exception switch
        {
            OperationCanceledException when cancellationToken.IsCancellationRequested => CallEnd.Ignored,
            ExecutionRejectedException => CallEnd.Ignored,
            { } failure when _classifies => _limiter.Classify(failure),
            OperationTimeoutException or TimeoutException => CallEnd.TimedOut,
            _ => CallEnd.Completed,
        };
    }

    /// <summary>The builder's configuration: a shared limiter, or options for one of the pipeline's own.</summary>
    internal sealed class Spec : PipelineLayerSpec
    {
        private readonly AdaptiveConcurrencyLimiter? _limiter;
        private readonly AdaptiveConcurrencyOptions? _options;

        public Spec(AdaptiveConcurrencyLimiter limiter)
        {
            _limiter = limiter;
            Kind = KindOf(limiter.PerAttempt);
        }

        public Spec(AdaptiveConcurrencyOptions options)
        {
            AdaptiveConcurrencyOptionsValidator.ThrowIfInvalid(options);
            _options = new AdaptiveConcurrencyOptions(options);
            Kind = KindOf(options.PerAttempt);
        }

        public override LayerKind Kind { get; }

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new AdaptiveConcurrencyLayer(_limiter ?? new AdaptiveConcurrencyLimiter(context.Name, _options!, context.TimeProvider, context.Logger, context.MeterFactory));
    }
}
