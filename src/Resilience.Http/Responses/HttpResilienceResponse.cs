using System.Globalization;

namespace Resilience.Http;

/// <summary>Reads what the resilience handler did for a response (served stale, gave up after retries, rejected by an open circuit, ...).</summary>
public static class HttpResilienceResponse
{
    /// <summary>The name of the header the handler adds to responses it marked, for people and proxies reading the traffic.</summary>
    /// <remarks>Code should call <see cref="GetOutcome(HttpResponseMessage)"/>: an upstream server could send this header too.</remarks>
    public const string OutcomeHeader = "X-Resilience-Outcome";

    /// <summary>The name of the header that says how many attempts reached the network for a marked response (0: nothing was sent).</summary>
    /// <remarks>Code should call <see cref="GetAttempts(HttpResponseMessage)"/>.</remarks>
    public const string AttemptsHeader = "X-Resilience-Attempts";

    /// <summary>Returns what the handler did for <paramref name="response"/>.</summary>
    /// <param name="response">A response returned by a client with the resilience handler.</param>
    /// <returns><see cref="HttpResilienceOutcome.None"/> when the handler did nothing worth reporting.</returns>
    /// <remarks>The marker is kept on the request's options and tied to this response instance, so a header sent by the upstream is never mistaken for it.</remarks>
    public static HttpResilienceOutcome GetOutcome(HttpResponseMessage response) =>
        OutcomeMarker.Find(response)?.Outcome ?? HttpResilienceOutcome.None;

    /// <summary>Returns how many attempts of the request reached the network, for a response the handler marked.</summary>
    /// <param name="response">A response returned by a client with the resilience handler.</param>
    /// <returns>The number of attempts sent (0 when the request was not sent), or <see langword="null"/> for an unmarked response.</returns>
    public static int? GetAttempts(HttpResponseMessage response) => OutcomeMarker.Find(response)?.Attempts;
}

/// <summary>The marker stored on <see cref="HttpRequestMessage.Options"/> for a response the handler marked.</summary>
internal sealed class OutcomeMarker(HttpResponseMessage response, HttpResilienceOutcome outcome, int attempts)
{
    public static readonly HttpRequestOptionsKey<OutcomeMarker> Key = new("Resilience.Http.Outcome");

    public HttpResponseMessage Response { get; } = response;

    public HttpResilienceOutcome Outcome { get; } = outcome;

    public int Attempts { get; } = attempts;

    public static OutcomeMarker? Find(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.RequestMessage is { } request
            && request.Options.TryGetValue(Key, out var marker)
            && ReferenceEquals(marker.Response, response)
            ? marker
            : null;
    }

    /// <summary>Marks <paramref name="response"/> (synthesized, stored or the upstream's own): marker headers, request link and options entry.</summary>
    public static void Mark(HttpRequestMessage request, HttpResponseMessage response, HttpResilienceOutcome outcome, int attempts)
    {
        response.RequestMessage = request;
        var headers = response.Headers;
        headers.Remove(HttpResilienceResponse.OutcomeHeader);
        headers.Remove(HttpResilienceResponse.AttemptsHeader);
        headers.TryAddWithoutValidation(HttpResilienceResponse.OutcomeHeader, HttpResilienceOutcomeNames.ToName(outcome));
        headers.TryAddWithoutValidation(HttpResilienceResponse.AttemptsHeader, attempts.ToString(CultureInfo.InvariantCulture));
        request.Options.Set(Key, new OutcomeMarker(response, outcome, attempts));
    }
}
