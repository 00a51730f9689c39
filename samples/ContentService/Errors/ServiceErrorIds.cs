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

    /// <summary>The task was cancelled before it finished.</summary>
    public const string Cancelled = "ERR_CANCELLED";
}
