namespace ContentService.Errors;

/// <summary>A failure the client caused or must act on, answered as problem details with a stable error ID.</summary>
/// <param name="status">The HTTP status.</param>
/// <param name="errorId">The stable error ID (see <see cref="ServiceErrorIds"/>).</param>
/// <param name="message">The problem's title: public, so nothing internal.</param>
internal sealed class ApiException(int status, string errorId, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string ErrorId { get; } = errorId;

    /// <summary>The request field at fault, for validation errors.</summary>
    public string? Field { get; init; }

    /// <summary>When the client may try again (sent as <c>Retry-After</c>).</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static ApiException Validation(string field, string message) =>
        new(StatusCodes.Status422UnprocessableEntity, ServiceErrorIds.Validation, message) { Field = field };

    public static ApiException NotFound(string what) =>
        new(StatusCodes.Status404NotFound, ServiceErrorIds.NotFound, $"{what} not found.");

    public static ApiException Conflict(string message) =>
        new(StatusCodes.Status409Conflict, ServiceErrorIds.AlreadyExists, message);

    /// <summary>409 for a change the resource's current state forbids (not a duplicate: nothing "already exists").</summary>
    public static ApiException InvalidState(string message) =>
        new(StatusCodes.Status409Conflict, ServiceErrorIds.InvalidState, message);

    /// <summary>503 for a request that does not fit in the capacity free now; it is refused, never queued.</summary>
    public static ApiException CapacityExhausted(string message, TimeSpan retryAfter) =>
        new(StatusCodes.Status503ServiceUnavailable, ServiceErrorIds.CapacityExhausted, message) { RetryAfter = retryAfter };
}
