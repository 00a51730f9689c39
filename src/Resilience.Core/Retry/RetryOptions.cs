using System.ComponentModel.DataAnnotations;

namespace Resilience.Retry;

/// <summary>How often and how patiently to retry a failed operation; bindable from configuration.</summary>
/// <remarks>
/// <para>
/// The numeric settings bind from a configuration section and are validated by <see cref="RetryOptionsValidator"/>
/// (the same rules run when a pipeline is built in code). This type decides only <em>which
/// exceptions</em> are retried; to retry on results (for example an HTTP 503), to honour a Retry-After hint or to
/// observe each retry with the outcome, use <see cref="RetryOptions{TResult}"/>.
/// </para>
/// <para>Not sealed only so that <see cref="RetryOptions{TResult}"/> can add the typed callbacks.</para>
/// </remarks>
public class RetryOptions
{
    /// <summary>Initializes a new instance of the <see cref="RetryOptions"/> class with the defaults.</summary>
    public RetryOptions()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RetryOptions"/> class with the settings of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy (for example a preset).</param>
    public RetryOptions(RetryOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Name = other.Name;
        MaxRetries = other.MaxRetries;
        BaseDelay = other.BaseDelay;
        MaxDelay = other.MaxDelay;
        Backoff = other.Backoff;
        BackoffFactor = other.BackoffFactor;
        Jitter = other.Jitter;
        ShouldHandle = other.ShouldHandle;
        Budget = other.Budget;
        WaitOutShortBreaks = other.WaitOutShortBreaks;
        OnRetry = other.OnRetry;
    }

    /// <summary>Gets or sets the name reported in metrics, logs and exceptions.</summary>
    /// <value>Defaults to <see langword="null"/>, reported as <c>retry</c>.</value>
    public string? Name { get; set; }

    /// <summary>Gets or sets how many times a failed call is retried (so at most <c>MaxRetries + 1</c> attempts).</summary>
    /// <value>Defaults to 3; 0 to 100.</value>
    [Range(0, RetryConstants.MaxRetriesLimit)]
    public int MaxRetries { get; set; } = RetryConstants.DefaultMaxRetries;

    /// <summary>Gets or sets the delay the backoff starts from.</summary>
    /// <value>Defaults to 200 ms; zero to one day; at most <see cref="MaxDelay"/>.</value>
    public TimeSpan BaseDelay { get; set; } = RetryConstants.DefaultBaseDelay;

    /// <summary>Gets or sets the longest delay before a retry, also capping a Retry-After hint.</summary>
    /// <value>Defaults to 30 s; zero to one day.</value>
    public TimeSpan MaxDelay { get; set; } = RetryConstants.DefaultMaxDelay;

    /// <summary>Gets or sets how the delay grows with each retry.</summary>
    /// <value>Defaults to <see cref="RetryBackoff.Exponential"/>.</value>
    [EnumDataType(typeof(RetryBackoff))]
    public RetryBackoff Backoff { get; set; } = RetryConstants.DefaultBackoff;

    /// <summary>Gets or sets the growth factor of <see cref="RetryBackoff.Exponential"/> backoff.</summary>
    /// <value>Defaults to 2; greater than 1, at most 100. Ignored by the other backoff kinds.</value>
    [Range(RetryConstants.MinBackoffFactor, RetryConstants.MaxBackoffFactor, MinimumIsExclusive = true)]
    public double BackoffFactor { get; set; } = RetryConstants.DefaultBackoffFactor;

    /// <summary>Gets or sets the randomness applied to the delay.</summary>
    /// <value>Defaults to <see cref="RetryJitter.Decorrelated"/>, which requires <see cref="RetryBackoff.Exponential"/>.</value>
    [EnumDataType(typeof(RetryJitter))]
    public RetryJitter Jitter { get; set; } = RetryConstants.DefaultJitter;

    /// <summary>Gets or sets which exceptions are worth a retry.</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: every exception except <see cref="OperationCanceledException"/>.
    /// </value>
    /// <remarks>
    /// Whatever the predicate says, nothing is retried once the caller's token is cancelled.
    /// <see cref="RetryOptions{TResult}.ShouldHandleOutcome"/>, when set, replaces this predicate.
    /// </remarks>
    public Func<Exception, bool>? ShouldHandle { get; set; }

    /// <summary>Gets or sets whether, in a pipeline, an attempt its circuit breaker refused is retried while the outage is young.</summary>
    /// <value>Defaults to <see langword="false"/>: a refusal is the answer until the break ends.</value>
    /// <remarks>
    /// When <see langword="true"/>, a refused attempt is retried while the circuit's current break is no longer than
    /// <see cref="MaxDelay"/>: it waits until one <see cref="BaseDelay"/> after the next probe is due (at least the usual
    /// backoff), so the probe has answered when it tries again, or until the circuit closes, if sooner (another call's probe
    /// succeeded, an adapter saw the dependency answer, or it was reset). The refused attempt never reached the dependency, so it does
    /// not use up <see cref="MaxRetries"/> (at most 16 refusals are waited out per call). Pair it with a short break that grows
    /// (<c>BreakDurationFactor</c>): once failed probes have grown the break beyond <see cref="MaxDelay"/>, refusals fail at
    /// once. <see cref="ShouldHandle"/> is not asked about refusals.
    /// </remarks>
    public bool WaitOutShortBreaks { get; set; }

    /// <summary>Gets or sets a callback invoked before each retry's delay, with the call's context.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    /// <remarks>It runs on the call's path: keep it short, and do not throw (an exception fails the call).</remarks>
    public Action<RetryArguments>? OnRetry { get; set; }

    /// <summary>Gets or sets the retry budget shared by all calls to one dependency.</summary>
    /// <value>Defaults to <see langword="null"/>: retries are limited only by <see cref="MaxRetries"/>.</value>
    /// <remarks>Share one <see cref="RetryBudget"/> across every strategy that calls the same dependency.</remarks>
    public RetryBudget? Budget { get; set; }

    /// <summary>Gets the type of result the typed callbacks expect, or <see langword="null"/> for untyped options.</summary>
    internal virtual Type? ResultType => null;

    /// <summary>Gets the typed callbacks, or nulls for untyped options.</summary>
    internal virtual TypedCallbacks GetTypedCallbacks() => default;

    /// <summary>A copy for a pipeline named <paramref name="name"/>, judging exceptions with <paramref name="shouldHandle"/>; typed options stay typed.</summary>
    internal virtual RetryOptions ForPipeline(string name, Func<Exception, bool> shouldHandle) => new(this) { Name = name, ShouldHandle = shouldHandle };

    /// <summary>The callbacks of <see cref="RetryOptions{TResult}"/>, stored untyped so the strategy itself is not generic.</summary>
    internal readonly record struct TypedCallbacks(Delegate? ShouldHandleOutcome, Delegate? RetryAfter, Delegate? OnRetriesStopped);
}

/// <summary>Retry options with typed callbacks over the outcome: retry on results, Retry-After hints, a retry callback.</summary>
/// <typeparam name="TResult">The type of the operation's result.</typeparam>
/// <remarks>
/// A pipeline whose retry is built from these options executes only operations returning
/// <typeparamref name="TResult"/>; any other result type is rejected with an <see cref="InvalidOperationException"/>
/// rather than silently ignoring the callbacks.
/// </remarks>
public sealed class RetryOptions<TResult> : RetryOptions
{
    /// <summary>Initializes a new instance of the <see cref="RetryOptions{TResult}"/> class with the defaults.</summary>
    public RetryOptions()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RetryOptions{TResult}"/> class with the settings of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy (for example <see cref="RetryPresets.HttpApi"/>).</param>
    public RetryOptions(RetryOptions other)
        : base(other)
    {
        if (other is RetryOptions<TResult> typed)
        {
            ShouldHandleOutcome = typed.ShouldHandleOutcome;
            RetryAfter = typed.RetryAfter;
            OnRetriesStopped = typed.OnRetriesStopped;
        }
    }

    /// <summary>Gets or sets which outcomes (exceptions or results) are worth a retry.</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: results are never retried and exceptions follow
    /// <see cref="RetryOptions.ShouldHandle"/>.
    /// </value>
    /// <remarks>Called for every outcome, including first-try successes, so keep it cheap.</remarks>
    public Func<Outcome<TResult>, bool>? ShouldHandleOutcome { get; set; }

    /// <summary>Gets or sets a function reading a Retry-After hint from a failed outcome.</summary>
    /// <value>Defaults to <see langword="null"/>: the computed backoff delay is used.</value>
    /// <remarks>
    /// The computed backoff is the floor: a hint shorter than it (zero and negative hints included) is ignored, and a
    /// hint longer than <see cref="RetryOptions.MaxDelay"/> is capped; both are logged (event 1204). A hint whose delay
    /// would end past the deadline stops the retries (see <see cref="OnRetriesStopped"/>).
    /// </remarks>
    public Func<Outcome<TResult>, TimeSpan?>? RetryAfter { get; set; }

    /// <summary>Gets or sets a callback invoked when a failure worth a retry is not retried: retries exhausted, budget empty, or deadline reached.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    /// <remarks>
    /// The caller still receives the last failure itself; this callback is where to mark it, for example to tell the
    /// caller that the server's Retry-After did not fit in the time left (<see cref="RetryStopReason.DeadlineReached"/>).
    /// </remarks>
    public Action<RetryStoppedArguments<TResult>>? OnRetriesStopped { get; set; }

    internal override Type? ResultType => typeof(TResult);

    internal override TypedCallbacks GetTypedCallbacks() => new(ShouldHandleOutcome, RetryAfter, OnRetriesStopped);

    internal override RetryOptions ForPipeline(string name, Func<Exception, bool> shouldHandle)
    {
        var user = ShouldHandleOutcome;
        var waitOut = WaitOutShortBreaks;
        var maxDelay = MaxDelay;
        return new RetryOptions<TResult>(this)
        {
            Name = name,
            ShouldHandle = shouldHandle,
            ShouldHandleOutcome = user is null ? null : o => o.Exception is ExecutionRejectedException refused ? waitOut && refused.IsBrief(maxDelay) : user(o),
        };
    }
}
