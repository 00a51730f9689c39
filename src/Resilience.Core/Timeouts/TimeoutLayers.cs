namespace Resilience.Timeouts;

/// <summary>The pipeline's total timeout: outside retry, so it bounds every attempt and delay.</summary>
internal sealed class TotalTimeoutLayer : PipelineLayer
{
    private bool _attemptTimeoutTakesOver;
    private bool _retryNeedsDeadline;

    private TotalTimeoutLayer(TimeoutStrategy strategy, TimeSpan timeout)
        : base(Describe(LayerPosition.TotalTimeout, $"Timeout={timeout}")) => Strategy = strategy;

    public TimeoutStrategy Strategy { get; }

    public override void Bind(PipelineLayer[] layers)
    {
        // The layers inside learn when the total timeout fires: the retry never starts a delay that ends after it, and
        // the attempt timeout arms its one timer for whichever limit comes first — so with an attempt timeout the total
        // needs no timer of its own, and the success path pays for one timer instead of two.
        _attemptTimeoutTakesOver = Find<AttemptTimeoutLayer>(layers) is not null;
        _retryNeedsDeadline = Find<Retry.RetryLayer>(layers) is not null;
    }

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        if (_attemptTimeoutTakesOver)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(new OperationCanceledException(cancellationToken)));
            }

            return call.WithDeadline(Strategy.DeadlineFromNow()).NextAsync(cancellationToken);
        }

        return Strategy.ExecuteCoreAsync(
            static (c, ct) => c.NextAsync(ct),
            _retryNeedsDeadline ? call.WithDeadline(Strategy.DeadlineFromNow()) : call,
            cancellationToken);
    }

    /// <summary>The builder's configuration: the limit.</summary>
    internal sealed class Spec(TimeSpan timeout) : PipelineLayerSpec
    {
        public TimeSpan Timeout => timeout;

        public override LayerPosition Position => LayerPosition.TotalTimeout;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new TotalTimeoutLayer(new TimeoutStrategy(new TimeoutOptions { Name = context.Name, Timeout = timeout, Kind = TimeoutKind.Total }, context.TimeProvider, context.Logger, context.MeterFactory), timeout);
    }
}

/// <summary>The pipeline's attempt timeout: innermost, so each attempt gets its own limit and a timeout is a breaker failure.</summary>
internal sealed class AttemptTimeoutLayer : PipelineLayer
{
    private readonly TimeoutStrategy _strategy;
    private TimeoutStrategy? _total;

    private AttemptTimeoutLayer(TimeoutStrategy strategy, TimeSpan timeout)
        : base(Describe(LayerPosition.AttemptTimeout, $"Timeout={timeout}")) => _strategy = strategy;

    public override void Bind(PipelineLayer[] layers) => _total = Find<TotalTimeoutLayer>(layers)?.Strategy;

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken) =>
        _strategy.ExecuteCoreAsync(static (c, ct) => c.NextAsync(ct), call, _total, call.Deadline, cancellationToken);

    /// <summary>The builder's configuration: the limit, checked against the total timeout's.</summary>
    internal sealed class Spec(TimeSpan timeout) : PipelineLayerSpec
    {
        public override LayerPosition Position => LayerPosition.AttemptTimeout;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context)
        {
            if (context.SpecAt(LayerPosition.TotalTimeout) is TotalTimeoutLayer.Spec total && timeout > total.Timeout)
            {
                throw new InvalidOperationException(
                    $"Pipeline '{context.Name}': the attempt timeout ({timeout}) must not exceed the total timeout ({total.Timeout}).");
            }

            return new AttemptTimeoutLayer(new TimeoutStrategy(new TimeoutOptions { Name = context.Name, Timeout = timeout, Kind = TimeoutKind.Attempt }, context.TimeProvider, context.Logger, context.MeterFactory), timeout);
        }
    }
}
