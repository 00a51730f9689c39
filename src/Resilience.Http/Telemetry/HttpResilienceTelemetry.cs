using Resilience.Telemetry;

namespace Resilience.Http;

/// <summary>The metric instruments and tag names of the HTTP adapter, on the library's <c>Resilience</c> meter.</summary>
/// <remarks>Tags never carry a path, query or user info: the authority is <c>scheme://host:port</c>.</remarks>
public static class HttpResilienceTelemetry
{
    /// <summary>Instrument: retries of HTTP requests (counter, unit <c>{retry}</c>; tags client, authority, reason).</summary>
    public const string RetriesInstrument = "resilience.http.retries";

    /// <summary>Instrument: requests that ended in a failure the handler handled, by outcome (counter, unit <c>{response}</c>; tags client, authority, outcome).</summary>
    public const string HandledInstrument = "resilience.http.handled";

    /// <summary>Instrument: authorities forgotten while their circuit was not closed (counter, unit <c>{breaker}</c>; tags client, authority).</summary>
    public const string OpenBreakersForgottenInstrument = "resilience.http.open_breakers_forgotten";

    /// <summary>Tag: the name of the <see cref="HttpClient"/> (the same tag name as every named strategy of the library).</summary>
    public const string ClientNameTag = ResilienceTelemetry.NameTag;

    /// <summary>Tag: the authority of the request, <c>scheme://host:port</c>, or <c>*</c> when one breaker serves every host.</summary>
    public const string AuthorityTag = "resilience.http.authority";

    /// <summary>Tag: what the handler did (<c>stale</c>, <c>circuit-open</c>, <c>retries-stopped-by-open-circuit</c>, <c>retries-exhausted</c>, <c>retry-budget-exhausted</c>, <c>retry-after-exceeds-deadline</c>, <c>timeout</c>, <c>not-retried</c>).</summary>
    public const string OutcomeTag = "resilience.http.outcome";
}
