using System.Runtime.CompilerServices;

namespace Resilience.Http;

/// <summary>Why a request may or may not be sent more than once.</summary>
internal enum HttpRetryPermission
{
    /// <summary>GET, HEAD, OPTIONS, PUT, DELETE or TRACE: repeating it has the same effect as sending it once (RFC 9110 §9.2.2).</summary>
    IdempotentMethod,

    /// <summary>The request carries an <c>Idempotency-Key</c> header, so the server can drop duplicates.</summary>
    IdempotencyKey,

    /// <summary><see cref="HttpResilienceOptions.RetryUnsafeMethods"/> is set for the client.</summary>
    AllowedByOptions,

    /// <summary><see cref="HttpResilienceRequestOptions.AllowRetry"/> is <see langword="true"/> on the request.</summary>
    AllowedByRequest,

    /// <summary><see cref="HttpResilienceRequestOptions.AllowRetry"/> is <see langword="false"/> on the request.</summary>
    DeniedByRequest,

    /// <summary>A method that is not idempotent (POST, PATCH, CONNECT, custom) with no key and no opt-in.</summary>
    DeniedUnsafeMethod,
}

/// <summary>Decides whether a request may be retried: never lose or duplicate a write the caller did not allow to repeat.</summary>
internal static class HttpRetrySafety
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static bool s_optionsFieldMissing;

    /// <summary>Returns whether and why <paramref name="request"/> may be sent again after a transient failure.</summary>
    /// <remarks>The per-request option wins over everything, then the method, then the header, then the client option.</remarks>
    public static HttpRetryPermission Evaluate(HttpRequestMessage request, bool retryUnsafeMethods)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (HasOptions(request) && request.Options.TryGetValue(HttpResilienceRequestOptions.AllowRetry, out var allow))
        {
            return allow ? HttpRetryPermission.AllowedByRequest : HttpRetryPermission.DeniedByRequest;
        }

        if (IsIdempotent(request.Method))
        {
            return HttpRetryPermission.IdempotentMethod;
        }

        if (request.Headers.NonValidated.TryGetValues(IdempotencyKeyHeader, out var keys) && HasNonEmptyValue(keys))
        {
            return HttpRetryPermission.IdempotencyKey;
        }

        return retryUnsafeMethods ? HttpRetryPermission.AllowedByOptions : HttpRetryPermission.DeniedUnsafeMethod;
    }

    public static bool IsAllowed(this HttpRetryPermission permission) =>
        permission is not (HttpRetryPermission.DeniedByRequest or HttpRetryPermission.DeniedUnsafeMethod);

    public static bool IsIdempotent(HttpMethod method)
    {
        ArgumentNullException.ThrowIfNull(method);
        return method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options
            || method == HttpMethod.Put || method == HttpMethod.Delete || method == HttpMethod.Trace;
    }

    /// <summary>Whether the request has options set: reading <see cref="HttpRequestMessage.Options"/> creates them, two objects per request for nothing.</summary>
    private static bool HasOptions(HttpRequestMessage request)
    {
        if (s_optionsFieldMissing)
        {
            return true;
        }

        try
        {
            return OptionsField(request) is { } options && ((ICollection<KeyValuePair<string, object?>>)options).Count > 0;
        }
        catch (MissingFieldException)
        {
            // Another runtime's HttpRequestMessage: read the options the public way from now on.
            s_optionsFieldMissing = true;
            return true;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_options")]
    private static extern ref HttpRequestOptions? OptionsField(HttpRequestMessage request);

    private static bool HasNonEmptyValue(System.Net.Http.Headers.HeaderStringValues values)
    {
        foreach (var value in values)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                return true;
            }
        }

        return false;
    }
}
