using Resilience.Failures;

namespace ContentService.Errors;

/// <summary>The stable error IDs this service answers with: the library's shared IDs plus the sample's own.</summary>
internal static class ServiceErrorIds
{
    public const string Validation = ErrorIds.Validation;
    public const string NotFound = ErrorIds.NotFound;
    public const string AlreadyExists = ErrorIds.AlreadyExists;
    public const string DatabaseUnavailable = ErrorIds.DatabaseUnavailable;
    public const string UpstreamUnavailable = ErrorIds.UpstreamUnavailable;
    public const string Timeout = ErrorIds.Timeout;
    public const string UnknownOutcome = ErrorIds.UnknownOutcome;
    public const string RateLimited = ErrorIds.RateLimited;
    public const string Internal = ErrorIds.Internal;

    /// <summary>No API key, or one that is unknown or expired.</summary>
    public const string Unauthorized = "ERR_UNAUTHORIZED";

    /// <summary>The request body is larger than the endpoint accepts.</summary>
    public const string PayloadTooLarge = "ERR_PAYLOAD_TOO_LARGE";

    /// <summary>The resource exists but its state does not allow the change (e.g. cancelling a finished task).</summary>
    public const string InvalidState = "ERR_INVALID_STATE";

    /// <summary>The route exists but not for this HTTP method (405).</summary>
    public const string MethodNotAllowed = "ERR_METHOD_NOT_ALLOWED";

    /// <summary>The body's content type is not one the endpoint reads (415).</summary>
    public const string UnsupportedMediaType = "ERR_UNSUPPORTED_MEDIA_TYPE";

    /// <summary>A request the application saw but could not read as HTTP it accepts (400), e.g. a bad query string.</summary>
    public const string BadRequest = "ERR_BAD_REQUEST";

    /// <summary>Not enough capacity free now (e.g. GPU memory for an image); refused at once, with Retry-After (503).</summary>
    public const string CapacityExhausted = "ERR_CAPACITY_EXHAUSTED";

    /// <summary>Key administration is not configured (no <c>Security:AdminKey</c>) (503).</summary>
    public const string AdminNotConfigured = "ERR_ADMIN_NOT_CONFIGURED";

    /// <summary>The task was cancelled before it finished.</summary>
    public const string Cancelled = "ERR_CANCELLED";
}
