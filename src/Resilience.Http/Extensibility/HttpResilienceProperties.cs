namespace Resilience.Http;

/// <summary>The keys under which the handler puts a request's facts in the call's <see cref="ResilienceContext"/>.</summary>
/// <remarks>
/// Set when the client has a callback, fault injection, endpoint routing or <see cref="HttpResilienceOptions.ConfigurePipeline"/>,
/// so custom layers and fault-injection generators can read the request (as Microsoft's <c>ResilienceKeys.RequestMessage</c>).
/// </remarks>
public static class HttpResilienceProperties
{
    /// <summary>Gets the key of the caller's request. A hedged copy (or one routed to another endpoint) is a copy of it.</summary>
    public static ResiliencePropertyKey<HttpRequestMessage> Request { get; } = new("Resilience.Http.Request");

    /// <summary>Gets the request of the call <paramref name="context"/> belongs to.</summary>
    /// <param name="context">The call's context.</param>
    /// <returns>The request, or <see langword="null"/> when the context is not a handler's call (or the client has none of the features that set it).</returns>
    public static HttpRequestMessage? GetRequest(ResilienceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.HasProperties && context.Properties.TryGetValue(Request, out var request) ? request : null;
    }
}
