using Resilience.CircuitBreaking;

namespace Resilience.Http;

/// <summary>
/// Opens a routed request's state around the whole call (outermost), and gives the request its own URI back at the end:
/// the primary attempt is sent with the URI of the endpoint it was routed to.
/// </summary>
internal sealed class HttpRoutingScopeLayer(int attemptsPerRound) : ResilienceLayer
{
    public override string Name => "http-routing";

    protected internal override ValueTask<Outcome<TResult>> InvokeAsync<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
    {
        if (HttpResilienceProperties.GetRequest(context) is not { RequestUri: { IsAbsoluteUri: true } uri } request || !context.HedgingAllowed)
        {
            return callback(context, state);
        }

        context.Properties.Set(HttpRoutingState.Key, new HttpRoutingState(uri, attemptsPerRound));
        return RunAsync(callback, context, state, request, uri);
    }

    private static async ValueTask<Outcome<TResult>> RunAsync<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state, HttpRequestMessage request, Uri uri)
    {
        try
        {
            return await callback(context, state).ConfigureAwait(false);
        }
        finally
        {
            request.RequestUri = uri;
        }
    }
}

/// <summary>
/// Routes each attempt (inside retry and hedging) to its endpoint and stands in for the circuit breaker: the attempt
/// passes the breaker of the authority it is sent to, so a dead endpoint's breaker opens and the others' stay closed.
/// </summary>
/// <remarks>An attempt of a request that is not routed passes the pipeline's own authority's breaker.</remarks>
internal sealed class HttpRoutedBreakerLayer(HttpResilienceEngine engine, HttpAuthorityPipelines own, HttpEndpointRouter router) : ResilienceLayer
{
    public override string Name => "http-routed-breaker";

    protected internal override ValueTask<Outcome<TResult>> InvokeAsync<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
    {
        var breaker = own.Breaker;
        if (context.HasProperties && context.Properties.TryGetValue(HttpRoutingState.Key, out var routing))
        {
            var target = HttpEndpointRouter.Rewrite(routing.Original, router.Pick(routing, context.HedgedAttempt));
            routing.SetTarget(context.HedgedAttempt, target);
            breaker = engine.GetPipelines(target).Breaker;
        }

        if (!breaker.TryAcquire(out var permit))
        {
            return new ValueTask<Outcome<TResult>>(new Outcome<TResult>(default, breaker.GetCachedRejection(in permit)));
        }

        ValueTask<Outcome<TResult>> pending;
        try
        {
            pending = callback(context, state);
        }
        catch (Exception e)
        {
            pending = new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(e));
        }

        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            Record(ref permit, in outcome, context.CancellationToken);
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return AwaitAsync(pending, permit, context.CancellationToken);
    }

    private async ValueTask<Outcome<TResult>> AwaitAsync<TResult>(ValueTask<Outcome<TResult>> pending, CircuitPermit permit, CancellationToken cancellationToken)
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

        Record(ref permit, in outcome, cancellationToken);
        return outcome;
    }

    /// <summary>Reports the attempt as Core's breaker layer would: a cancelled attempt neither way, a transient failure as a failure.</summary>
    private void Record<TResult>(ref CircuitPermit permit, in Outcome<TResult> outcome, CancellationToken cancellationToken)
    {
        if (outcome.Exception is { } exception)
        {
            if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                permit.Release();
            }
            else if (engine.IsTransient(Outcome.FromException<HttpResponseMessage>(exception)))
            {
                permit.Failed(exception);
            }
            else
            {
                permit.Succeeded();
            }
        }
        else if (outcome.Result is HttpResponseMessage response && engine.IsTransient(Outcome.FromResult(response)))
        {
            permit.Failed();
        }
        else
        {
            permit.Succeeded();
        }
    }
}
