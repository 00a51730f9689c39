namespace Resilience.Failures;

/// <summary>Helpers over <see cref="FailureKind"/> for callers that answer over HTTP (without depending on ASP.NET Core).</summary>
public static class FailureKinds
{
    /// <summary>Returns the HTTP status code an API answers with for a failure of <paramref name="kind"/>.</summary>
    /// <param name="kind">The kind of failure, e.g. <c>DatabaseException.FailureKind</c>.</param>
    /// <returns>
    /// <see cref="FailureKind.Transient"/>, <see cref="FailureKind.Unavailable"/> → 503 (send the exception's <c>RetryAfter</c>, when
    /// set, as <c>Retry-After</c>); <see cref="FailureKind.Timeout"/> → 504; <see cref="FailureKind.Conflict"/> → 409;
    /// <see cref="FailureKind.NotFound"/> → 404; <see cref="FailureKind.InvalidInput"/> → 422;
    /// <see cref="FailureKind.UnknownOutcome"/> → 503 (the client should check the state before repeating the write);
    /// <see cref="FailureKind.Permanent"/>, <see cref="FailureKind.Configuration"/> and <see cref="FailureKind.None"/> → 500.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined kind.</exception>
    /// <example><c>Results.Problem(statusCode: FailureKinds.ToHttpStatus(e.FailureKind), extensions: ...)</c>.</example>
    public static int ToHttpStatus(FailureKind kind) => kind switch
    {
        FailureKind.Transient or FailureKind.Unavailable => 503,
        FailureKind.Timeout => 504,
        FailureKind.Conflict => 409,
        FailureKind.NotFound => 404,
        FailureKind.InvalidInput => 422,

        // The write may have happened: not the caller's fault, and repeating it blindly is unsafe, so "try later", not 500.
        FailureKind.UnknownOutcome => 503,
        FailureKind.Permanent or FailureKind.Configuration or FailureKind.None => 500,

        // No default mapping: a new kind must choose its status here (the unit test covers every value).
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a defined failure kind."),
    };
}
