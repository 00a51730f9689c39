namespace Resilience.Timeouts;

/// <summary>Thrown when one of our timeouts (not the caller's cancellation) stopped an operation.</summary>
/// <remarks>
/// The caller's own cancellation surfaces as <see cref="OperationCanceledException"/> instead, so the two are never confused.
/// A timeout is a failure: it never turns into an empty result.
/// </remarks>
public sealed class OperationTimeoutException : TimeoutException
{
    /// <summary>Initializes a new instance of the <see cref="OperationTimeoutException"/> class.</summary>
    public OperationTimeoutException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OperationTimeoutException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public OperationTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OperationTimeoutException"/> class with a message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cancellation the timeout caused.</param>
    public OperationTimeoutException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OperationTimeoutException"/> class naming the timeout.</summary>
    /// <param name="kind">Which timeout fired.</param>
    /// <param name="timeout">Its duration.</param>
    /// <param name="strategyName">The name of the strategy or task, if any.</param>
    /// <param name="innerException">The cancellation the timeout caused, if any.</param>
    public OperationTimeoutException(TimeoutKind kind, TimeSpan timeout, string? strategyName, Exception? innerException)
        : base(FormatMessage(kind, timeout, strategyName), innerException)
    {
        Kind = kind;
        Timeout = timeout;
        StrategyName = strategyName;
    }

    /// <summary>Gets which timeout fired.</summary>
    public TimeoutKind Kind { get; }

    /// <summary>Gets the duration of the timeout that fired.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets the name of the strategy or task whose timeout fired, if any.</summary>
    public string? StrategyName { get; }

    private static string FormatMessage(TimeoutKind kind, TimeSpan timeout, string? name) =>
        name is null
            ? $"The {TimeoutConstants.TagOf(kind)} timeout of {timeout} elapsed."
            : $"The {TimeoutConstants.TagOf(kind)} timeout of {timeout} elapsed ('{name}').";
}
