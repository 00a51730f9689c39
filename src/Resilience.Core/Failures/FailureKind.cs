namespace Resilience.Failures;

/// <summary>What kind of failure an error is, independent of where it came from (database, HTTP, ...).</summary>
/// <remarks>Adapters classify their own errors into these kinds; callers and the sample map kinds to responses.</remarks>
public enum FailureKind
{
    /// <summary>Not a failure, or not classified.</summary>
    None = 0,

    /// <summary>A short-lived fault; trying again soon is likely to succeed.</summary>
    Transient,

    /// <summary>The operation ran out of time. Whether it took effect may be unknown.</summary>
    Timeout,

    /// <summary>The dependency cannot serve now (down, saturated, circuit open); back off before trying again.</summary>
    Unavailable,

    /// <summary>The request conflicts with existing state, e.g. a unique key already exists.</summary>
    Conflict,

    /// <summary>The addressed item does not exist.</summary>
    NotFound,

    /// <summary>The caller's input is invalid; retrying the same input cannot succeed.</summary>
    InvalidInput,

    /// <summary>A defect or unrecoverable condition; retrying cannot help.</summary>
    Permanent,

    /// <summary>The system is misconfigured (credentials, permissions); not the caller's fault.</summary>
    Configuration,

    /// <summary>A write may or may not have taken effect (its acknowledgement was lost); it must not be retried blindly.</summary>
    UnknownOutcome,
}
