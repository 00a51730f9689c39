using Resilience.Hedging;

namespace Resilience;

/// <summary>Runs an operation through a hedging pipeline against a list of endpoints: each attempt gets the next one.</summary>
public static class HedgingPipelineExtensions
{
    /// <summary>
    /// Runs <paramref name="operation"/> through the pipeline, giving attempt <c>n</c> the endpoint
    /// <c>endpoints[n % endpoints.Count]</c>: the first attempt (and each retry's first) the first endpoint, the first
    /// hedged attempt the second, and so on — e.g. the next LLM provider.
    /// </summary>
    /// <typeparam name="TEndpoint">The type of an endpoint, e.g. a client with its own circuit breaker.</typeparam>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="pipeline">The pipeline; without a hedging layer every attempt gets the first endpoint (unless the call runs inside another pipeline's hedged attempt: see <see cref="HedgingAttempt.Current"/>).</param>
    /// <param name="endpoints">The endpoints, in the order to try them; not empty.</param>
    /// <param name="operation">The operation; a static lambda avoids a closure. It must observe the token: a losing attempt is cancelled through it.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The first acceptable result.</returns>
    public static ValueTask<TResult> ExecuteHedgedAsync<TEndpoint, TState, TResult>(
        this ResiliencePipeline pipeline,
        IReadOnlyList<TEndpoint> endpoints,
        Func<TEndpoint, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        return pipeline.ExecuteAsync(EndpointCall<TEndpoint, TState, TResult>.Invoke, new EndpointCall<TEndpoint, TState, TResult>(endpoints, operation, state), cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="operation"/> through the pipeline, giving attempt <c>n</c> the endpoint
    /// <c>endpoints[n % endpoints.Count]</c>, with the pipeline's fallback.
    /// </summary>
    /// <typeparam name="TEndpoint">The type of an endpoint, e.g. a client with its own circuit breaker.</typeparam>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="pipeline">The pipeline; without a hedging layer every attempt gets the first endpoint (unless the call runs inside another pipeline's hedged attempt: see <see cref="HedgingAttempt.Current"/>).</param>
    /// <param name="endpoints">The endpoints, in the order to try them; not empty.</param>
    /// <param name="operation">The operation; a static lambda avoids a closure. It must observe the token: a losing attempt is cancelled through it.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The first acceptable result, or the fallback's value.</returns>
    public static ValueTask<TResult> ExecuteHedgedAsync<TEndpoint, TState, TResult>(
        this ResiliencePipeline<TResult> pipeline,
        IReadOnlyList<TEndpoint> endpoints,
        Func<TEndpoint, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        return pipeline.ExecuteAsync(EndpointCall<TEndpoint, TState, TResult>.Invoke, new EndpointCall<TEndpoint, TState, TResult>(endpoints, operation, state), cancellationToken);
    }

    /// <summary>The endpoints, the operation and its state as one value, so the adapter is a cached static delegate.</summary>
    private readonly struct EndpointCall<TEndpoint, TState, TResult>
    {
        public static readonly Func<EndpointCall<TEndpoint, TState, TResult>, CancellationToken, ValueTask<TResult>> Invoke =
            static (c, ct) => c._operation(c._endpoints[HedgingAttempt.Current % c._endpoints.Count], c._state, ct);

        private readonly IReadOnlyList<TEndpoint> _endpoints;
        private readonly Func<TEndpoint, TState, CancellationToken, ValueTask<TResult>> _operation;
        private readonly TState _state;

        public EndpointCall(IReadOnlyList<TEndpoint> endpoints, Func<TEndpoint, TState, CancellationToken, ValueTask<TResult>> operation, TState state)
        {
            ArgumentNullException.ThrowIfNull(endpoints);
            ArgumentNullException.ThrowIfNull(operation);
            if (endpoints.Count == 0)
            {
                throw new ArgumentException("At least one endpoint is needed.", nameof(endpoints));
            }

            _endpoints = endpoints;
            _operation = operation;
            _state = state;
        }
    }
}
