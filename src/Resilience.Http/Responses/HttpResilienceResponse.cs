namespace Resilience.Http;

/// <summary>Reads what the resilience handler did for a response (served stale, synthesized because the circuit was open, ...).</summary>
public static class HttpResilienceResponse
{
    /// <summary>The name of the header the handler adds to responses it produced itself, for people and proxies reading the traffic.</summary>
    /// <remarks>Code should call <see cref="GetOutcome(HttpResponseMessage)"/>: an upstream server could send this header too.</remarks>
    public const string OutcomeHeader = "X-Resilience-Outcome";

    /// <summary>Returns what the handler did for <paramref name="response"/>.</summary>
    /// <param name="response">A response returned by a client with the resilience handler.</param>
    /// <returns><see cref="HttpResilienceOutcome.None"/> when the response came from the upstream server.</returns>
    /// <remarks>The marker is kept on the request's options and tied to this response instance, so a header sent by the upstream is never mistaken for it.</remarks>
    public static HttpResilienceOutcome GetOutcome(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.RequestMessage is { } request
            && request.Options.TryGetValue(OutcomeMarker.Key, out var marker)
            && ReferenceEquals(marker.Response, response)
            ? marker.Outcome
            : HttpResilienceOutcome.None;
    }
}

/// <summary>The marker stored on <see cref="HttpRequestMessage.Options"/> for a response the handler produced.</summary>
internal sealed class OutcomeMarker(HttpResponseMessage response, HttpResilienceOutcome outcome)
{
    public static readonly HttpRequestOptionsKey<OutcomeMarker> Key = new("Resilience.Http.Outcome");

    public HttpResponseMessage Response { get; } = response;

    public HttpResilienceOutcome Outcome { get; } = outcome;

    /// <summary>Marks <paramref name="response"/> as produced by the handler: marker header, request link and options entry.</summary>
    public static void Mark(HttpRequestMessage request, HttpResponseMessage response, HttpResilienceOutcome outcome)
    {
        response.RequestMessage = request;
        response.Headers.Remove(HttpResilienceResponse.OutcomeHeader);
        response.Headers.TryAddWithoutValidation(HttpResilienceResponse.OutcomeHeader, HttpResilienceOutcomeNames.ToName(outcome));
        request.Options.Set(Key, new OutcomeMarker(response, outcome));
    }
}
