namespace Resilience.Timeouts;

/// <summary>The pipeline's total timeout: outside retry, so it bounds every attempt and delay.</summary>
internal sealed class TotalTimeoutLayer : PipelineLayer
{
    private bool _attemptTimeoutTakesOver;
    private bool _innerReadsDeadline;

    private TotalTimeoutLayer(TimeoutStrategy strategy, TimeoutOptions options)
        : base(LayerKind.TotalTimeout, options, $"Timeout={options.Timeout}") => Strategy = strategy;

    public TimeoutStrategy Strategy { get; }

    public override void Bind(PipelineLayer[] layers)
    {
        // The layers inside learn when the total timeout fires: the retry never starts a delay that ends after it, and
        // the attempt timeout arms its one timer for whichever limit comes first — so with an attempt timeout the total
        // needs no timer of its own, and the success path pays for one timer instead of two.
        _attemptTimeoutTakesOver = Any(layers, static l => l.EnforcesDeadline);
        _innerReadsDeadline = Any(layers, static l => l.ReadsDeadline);
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

        return _innerReadsDeadline
            ? Strategy.ExecuteCoreAsync(call.WithDeadline(Strategy.DeadlineFromNow()), cancellationToken)
            : Strategy.ExecuteCoreAsync(in call, cancellationToken);
    }

    /// <summary>The builder's configuration: the limit.</summary>
    internal sealed class Spec(TimeoutOptions options) : PipelineLayerSpec
    {
        public TimeSpan Timeout => options.Timeout;

        public override LayerKind Kind => LayerKind.TotalTimeout;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new TotalTimeoutLayer(new TimeoutStrategy(Named(options, context.Name, TimeoutKind.Total), context.TimeProvider, context.Logger, context.MeterFactory), options);
    }

    /// <summary>A copy of <paramref name="options"/> named after the pipeline and of kind <paramref name="kind"/>.</summary>
    internal static TimeoutOptions Named(TimeoutOptions options, string pipelineName, TimeoutKind kind) =>
        new() { Name = options.Name ?? pipelineName, Timeout = options.Timeout, Kind = kind, OnTimeout = options.OnTimeout };
}

/// <summary>The pipeline's attempt timeout: innermost, so each attempt gets its own limit and a timeout is a breaker failure.</summary>
internal sealed class AttemptTimeoutLayer : PipelineLayer
{
    private TimeoutStrategy? _total;

    private AttemptTimeoutLayer(TimeoutStrategy strategy, TimeoutOptions options)
        : base(LayerKind.AttemptTimeout, options, $"Timeout={options.Timeout}") => Strategy = strategy;

    public TimeoutStrategy Strategy { get; }

    /// <inheritdoc />
    /// <remarks>Its one timer is armed for the total's deadline too, when that comes first.</remarks>
    public override bool EnforcesDeadline => true;

    public override void Bind(PipelineLayer[] layers) => _total = Find<TotalTimeoutLayer>(layers)?.Strategy;

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken) =>
        Strategy.ExecuteCoreAsync(in call, _total, call.Deadline, cancellationToken);

    /// <summary>The builder's configuration: the limit, checked against the total timeout's.</summary>
    internal sealed class Spec(TimeoutOptions options) : PipelineLayerSpec
    {
        public override LayerKind Kind => LayerKind.AttemptTimeout;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context)
        {
            if (context.SpecOf(LayerKind.TotalTimeout) is TotalTimeoutLayer.Spec total && options.Timeout > total.Timeout)
            {
                throw new InvalidOperationException(
                    $"Pipeline '{context.Name}': the attempt timeout ({options.Timeout}) must not exceed the total timeout ({total.Timeout}).");
            }

            return new AttemptTimeoutLayer(new TimeoutStrategy(TotalTimeoutLayer.Named(options, context.Name, TimeoutKind.Attempt), context.TimeProvider, context.Logger, context.MeterFactory), options);
        }
    }
}
