namespace Resilience.Http;

/// <summary>Which requests are hedged, and how a hedged copy of one is sent.</summary>
internal static class HttpHedging
{
    /// <summary>
    /// Whether <paramref name="request"/> is hedged: hedging is on, the method is <c>GET</c> or <c>HEAD</c> (safe to send
    /// twice at once), there is no body to copy, and the caller did not forbid sending it more than once.
    /// </summary>
    public static bool Applies(HttpResilienceEngine engine, HttpRequestMessage request, HttpRetryPermission permission) =>
        engine.Hedging is not null
        && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head)
        && request.Content is null
        && permission != HttpRetryPermission.DeniedByRequest;

    /// <summary>Sends a copy of the call's request (a request message can be sent only once at a time) and hands the response back as the original's.</summary>
    /// <param name="call">The call.</param>
    /// <param name="target">The URI the routing chose for this copy; <see langword="null"/> for the request's own.</param>
    /// <param name="cancellationToken">The copy's token.</param>
    public static async ValueTask<HttpResponseMessage> SendCopyAsync(HttpRequestCall call, Uri? target, CancellationToken cancellationToken)
    {
        var original = call.Request;
        using var copy = new HttpRequestMessage(original.Method, target ?? original.RequestUri)
        {
            Version = original.Version,
            VersionPolicy = original.VersionPolicy,
        };
        // The non-validated view: reading the parsed headers may write to them, and the first attempt is reading them now.
        foreach (var header in original.Headers.NonValidated)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        // The options carry the call, so the retry predicate finds it from the copy's response too.
        var options = (IDictionary<string, object?>)copy.Options;
        foreach (var option in original.Options)
        {
            options[option.Key] = option.Value;
        }

        var response = await call.Handler.SendInnerAsync(copy, cancellationToken).ConfigureAwait(false);

        // The caller sees its own request on the response, whichever copy won.
        response.RequestMessage = original;
        return response;
    }
}
