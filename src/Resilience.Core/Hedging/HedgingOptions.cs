namespace Resilience.Hedging;

/// <summary>
/// When to start another attempt of an idempotent operation while the first is still running, and how many: the first
/// acceptable outcome wins and the other attempts are cancelled.
/// </summary>
/// <remarks>
/// <para>
/// A hedged attempt starts when <see cref="Delay"/> passes without an acceptable outcome, or at once when an attempt
/// fails with an outcome <see cref="ShouldHandle"/> (or <see cref="HedgingOptions{TResult}.ShouldHandleOutcome"/>) handles.
/// Hedge only operations that are safe to run more than once at the same time (reads, idempotent writes).
/// </para>
/// <para>Not sealed only so that <see cref="HedgingOptions{TResult}"/> can add the typed predicate.</para>
/// </remarks>
public class HedgingOptions
{
    /// <summary>Initializes a new instance of the <see cref="HedgingOptions"/> class with the defaults.</summary>
    public HedgingOptions()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HedgingOptions"/> class with the settings of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public HedgingOptions(HedgingOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        MaxHedgedAttempts = other.MaxHedgedAttempts;
        Delay = other.Delay;
        DelayGenerator = other.DelayGenerator;
        ShouldHandle = other.ShouldHandle;
        OnHedging = other.OnHedging;
    }

    /// <summary>Gets or sets how many attempts may start besides the first (so at most <c>MaxHedgedAttempts + 1</c> run).</summary>
    /// <value>Defaults to 1; 1 to 10.</value>
    public int MaxHedgedAttempts { get; set; } = HedgingConstants.DefaultMaxHedgedAttempts;

    /// <summary>Gets or sets how long to wait for an acceptable outcome before the next attempt starts.</summary>
    /// <value>
    /// Defaults to 2 s; zero to one day. <see cref="TimeSpan.Zero"/> starts every attempt at once;
    /// <see cref="Timeout.InfiniteTimeSpan"/> starts the next attempt only when one fails.
    /// </value>
    /// <remarks>Measured from the start of the latest attempt, on the pipeline's <see cref="TimeProvider"/>.</remarks>
    public TimeSpan Delay { get; set; } = HedgingConstants.DefaultDelay;

    /// <summary>Gets or sets a function giving the delay before each hedged attempt, in place of <see cref="Delay"/>.</summary>
    /// <value>Defaults to <see langword="null"/>: every hedged attempt waits <see cref="Delay"/>.</value>
    /// <remarks>Called once per hedged attempt, with its number; it may return zero or <see cref="Timeout.InfiniteTimeSpan"/> too.</remarks>
    public Func<HedgingDelayArguments, TimeSpan>? DelayGenerator { get; set; }

    /// <summary>Gets or sets which exceptions make an attempt a failure, so the next one starts at once instead of after the delay.</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: every exception except <see cref="OperationCanceledException"/>, so a timed-out
    /// attempt or an open circuit of one endpoint moves on to the next at once.
    /// </value>
    /// <remarks>
    /// An outcome not handled (a result, or an exception this predicate declines) is accepted: it wins and the other
    /// attempts are cancelled. <see cref="HedgingOptions{TResult}.ShouldHandleOutcome"/>, when set, replaces this predicate.
    /// </remarks>
    public Func<Exception, bool>? ShouldHandle { get; set; }

    /// <summary>Gets or sets a callback invoked as each hedged attempt starts, with the hedged attempt's context.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Action<HedgingArguments>? OnHedging { get; set; }

    /// <summary>Gets the type of result the typed predicate expects, or <see langword="null"/> for untyped options.</summary>
    internal virtual Type? ResultType => null;

    /// <summary>Gets the typed predicate (a <c>Func&lt;Outcome&lt;TResult&gt;, bool&gt;</c>), if any.</summary>
    internal virtual Delegate? ShouldHandleOutcomeDelegate => null;
}

/// <summary>Hedging options with a typed predicate over the outcome, so a failed result (e.g. an HTTP 503) starts the next attempt.</summary>
/// <typeparam name="TResult">The type of the operation's result.</typeparam>
/// <remarks>A pipeline built with these options runs only operations returning <typeparamref name="TResult"/>; any other result type fails with an <see cref="InvalidOperationException"/>.</remarks>
public sealed class HedgingOptions<TResult> : HedgingOptions
{
    /// <summary>Initializes a new instance of the <see cref="HedgingOptions{TResult}"/> class with the defaults.</summary>
    public HedgingOptions()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HedgingOptions{TResult}"/> class with the settings of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public HedgingOptions(HedgingOptions other)
        : base(other)
    {
        if (other is HedgingOptions<TResult> typed)
        {
            ShouldHandleOutcome = typed.ShouldHandleOutcome;
        }
    }

    /// <summary>Gets or sets which outcomes (exceptions or results) are failures: they start the next attempt at once and never win.</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: results follow the pipeline's <c>ShouldHandleResult</c> and exceptions
    /// follow <see cref="HedgingOptions.ShouldHandle"/>.
    /// </value>
    /// <remarks>Called for every outcome, so keep it cheap.</remarks>
    public Func<Outcome<TResult>, bool>? ShouldHandleOutcome { get; set; }

    internal override Type? ResultType => typeof(TResult);

    internal override Delegate? ShouldHandleOutcomeDelegate => ShouldHandleOutcome;
}
