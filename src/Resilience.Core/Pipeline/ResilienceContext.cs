namespace Resilience;

/// <summary>
/// The facts of one call that travel with it through every layer, to the operation, the callbacks and telemetry: its
/// operation key, its properties, the attempt it is on, the token of that attempt, and what it allows.
/// </summary>
/// <remarks>
/// <para>Rent one from <see cref="ResilienceContextPool"/>, pass it to an <c>ExecuteAsync</c> overload that takes a
/// context, and return it when the call has ended. A call made without one gets one created only when something needs it
/// (a callback, a hedged attempt, a custom layer), so the success path of a plain call allocates nothing.</para>
/// <para>A context belongs to one call at a time. A hedged attempt runs with a context of its own that shares the
/// call's <see cref="Properties"/> and <see cref="OperationKey"/>.</para>
/// </remarks>
public sealed class ResilienceContext
{
    private ResilienceProperties? _properties;

    internal ResilienceContext()
    {
    }

    /// <summary>Gets the key of the operation, used as the cached fallback's key and available to telemetry enrichment.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public string? OperationKey { get; private set; }

    /// <summary>Gets the token of the attempt running now: the caller's token, linked with the timeouts and a hedged attempt's cancellation.</summary>
    public CancellationToken CancellationToken { get; internal set; }

    /// <summary>Gets a value indicating whether the caller used a synchronous <c>Execute</c>: retry delays then block the calling thread.</summary>
    public bool IsSynchronous { get; internal set; }

    /// <summary>Gets the number of the attempt running now: 0 for the first, 1 for the first retry, and so on.</summary>
    public int Attempt { get; internal set; }

    /// <summary>Gets the number of the hedged attempt running now: 0 for the primary, 1 for the first hedged copy, and so on.</summary>
    /// <remarks>Pick an endpoint with it, e.g. <c>endpoints[context.HedgedAttempt % endpoints.Count]</c>.</remarks>
    public int HedgedAttempt { get; internal set; }

    /// <summary>Gets or sets a value indicating whether a failure of this call may be retried.</summary>
    /// <remarks>Set it to <see langword="false"/> for an operation that must not run twice (a write without an idempotency key).</remarks>
    /// <value>Default: <see langword="true"/>.</value>
    public bool RetryAllowed { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether this call may be hedged (copies sent while the first is slow).</summary>
    /// <value>Default: <see langword="true"/>.</value>
    public bool HedgingAllowed { get; set; } = true;

    /// <summary>Gets the call's properties: typed values the caller, the layers and the callbacks share.</summary>
    public ResilienceProperties Properties => _properties ??= new ResilienceProperties();

    /// <summary>Gets whether any property was set, without creating the property bag.</summary>
    internal bool HasProperties => _properties is { Count: > 0 };

    /// <summary>Creates the context of a call made without one, when a layer first needs it (not pooled).</summary>
    internal static ResilienceContext ForCall(CancellationToken cancellationToken) => new() { CancellationToken = cancellationToken };

    /// <summary>Creates the context of hedged attempt <paramref name="hedgedAttempt"/> of the call <paramref name="call"/> runs under.</summary>
    internal static ResilienceContext ForHedgedAttempt(ResilienceContext? call, int hedgedAttempt, CancellationToken cancellationToken)
    {
        var context = new ResilienceContext { HedgedAttempt = hedgedAttempt, CancellationToken = cancellationToken };
        if (call is not null)
        {
            context.OperationKey = call.OperationKey;
            context.IsSynchronous = call.IsSynchronous;
            context.Attempt = call.Attempt;
            context.RetryAllowed = call.RetryAllowed;
            context._properties = call._properties ??= new ResilienceProperties();
        }

        return context;
    }

    internal void Initialize(string? operationKey, bool isSynchronous, CancellationToken cancellationToken)
    {
        OperationKey = operationKey;
        CancellationToken = cancellationToken;
        IsSynchronous = isSynchronous;
    }

    /// <summary>Clears the context for its next call.</summary>
    internal void Reset()
    {
        OperationKey = null;
        CancellationToken = default;
        IsSynchronous = false;
        Attempt = 0;
        HedgedAttempt = 0;
        RetryAllowed = true;
        HedgingAllowed = true;
        _properties?.Clear();
    }
}
