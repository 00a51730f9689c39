namespace Resilience;

/// <summary>
/// The base of every refusal by a layer of the pipeline — an open circuit, a rate limiter, a concurrency limit — as
/// opposed to a failure of the operation: the operation did not run, so nothing reached the dependency.
/// </summary>
/// <remarks>
/// Layers and callers tell refusals apart from failures by this type alone, never by the refusing kind, and read
/// <see cref="RetryAfter"/> to know when trying again can succeed (e.g. to send it as an HTTP <c>Retry-After</c>).
/// </remarks>
public abstract class ExecutionRejectedException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ExecutionRejectedException"/> class.</summary>
    protected ExecutionRejectedException()
        : base("The call was rejected.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ExecutionRejectedException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    protected ExecutionRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ExecutionRejectedException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    protected ExecutionRejectedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets how long until a call can be admitted again, when the refusing layer knows; otherwise <see langword="null"/>.</summary>
    public virtual TimeSpan? RetryAfter => null;

    /// <summary>Gets how long a retry should wait for the refusal to end, or <see langword="null"/> when the refusing layer cannot say.</summary>
    internal virtual TimeSpan? WaitHint => RetryAfter;

    /// <summary>
    /// Gets a token cancelled when the refusal ends (the refusing layer admits calls again, e.g. a circuit closed by its probe),
    /// so a retry waiting it out goes at once; a token that cannot be cancelled when the layer cannot tell.
    /// </summary>
    internal virtual CancellationToken Ended => default;

    /// <summary>Whether the refusal is brief: the layer expects to admit calls again within <paramref name="limit"/>.</summary>
    internal virtual bool IsBrief(TimeSpan limit) => RetryAfter is { } retryAfter && retryAfter <= limit;

    /// <summary>Gets a value indicating whether this is one instance shared between non-throwing refusals (so they allocate nothing).</summary>
    internal virtual bool IsShared => false;

    /// <summary>Returns an exception that may be thrown: this one, or a fresh copy of a shared one (a throw rewrites the stack trace of the instance it throws).</summary>
    internal virtual Exception ForThrowing() => this;
}
