using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Telemetry;
using Resilience.Time;

namespace Resilience.Timeouts;

/// <summary>The timer behind both timeout layers: cancels the rest of the call when it runs longer than a limit and reports it as <see cref="OperationTimeoutException"/>.</summary>
/// <remarks>
/// <para>
/// The operation receives a token that is cancelled when the timeout elapses or when the caller's token is
/// cancelled. The caller's cancellation surfaces as <see cref="OperationCanceledException"/>; our timeout as
/// <see cref="OperationTimeoutException"/> naming its kind and duration. The timer is armed before the
/// operation is invoked, so an operation that watches its token is cancelled at the limit whether it runs
/// synchronously or asynchronously. Once the timeout fired, whatever the operation throws is reported as the timeout
/// (its exception kept as the inner one). Timeouts are cooperative: an operation that ignores its token runs to
/// completion and its result is returned.
/// </para>
/// <para>
/// The token sources are pooled and reset, so a call that completes in time allocates nothing for the timeout. On the
/// system clock, limits of a second or more are armed on a shared coarse timer (cancelled up to 15 ms late) instead of
/// the runtime's timer queue, which costs two locked updates per call.
/// </para>
/// </remarks>
internal sealed class TimeoutStrategy
{
    private readonly CancellationTokenSourcePool _pool;
    private readonly MonotonicClock _clock;
    private readonly ILogger _logger;
    private readonly TimeoutTelemetry _telemetry;
    private readonly string _kindTag;
    private readonly bool _coarse;
    private readonly Action<TimeoutArguments>? _onTimeout;

    /// <summary>Initializes a new instance of the <see cref="TimeoutStrategy"/> class.</summary>
    /// <param name="options">The timeout; validated here.</param>
    /// <param name="timeProvider">The clock the timeout runs on; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">Receives timeout log events; none when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter the timeout's instrument report on (DI's <see cref="IMeterFactory"/>); the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public TimeoutStrategy(TimeoutOptions options, TimeProvider? timeProvider = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        TimeoutOptionsValidator.ThrowIfInvalid(options);
        Timeout = options.Timeout;
        Kind = options.Kind;
        Name = options.Name ?? TimeoutConstants.DefaultName;
        _kindTag = TimeoutConstants.TagOf(Kind);
        _pool = new CancellationTokenSourcePool(timeProvider ?? TimeProvider.System);
        _coarse = (timeProvider ?? TimeProvider.System) == TimeProvider.System;
        _clock = new MonotonicClock(timeProvider ?? TimeProvider.System);
        _logger = logger ?? NullLogger.Instance;
        _telemetry = ResilienceMeter.Instruments<TimeoutTelemetry>(meterFactory);
        _onTimeout = options.OnTimeout;
    }

    /// <summary>Gets the timeout.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets which timeout this is.</summary>
    public TimeoutKind Kind { get; }

    /// <summary>Gets the name reported in metrics, logs and exceptions.</summary>
    public string Name { get; }

    internal CancellationTokenSourcePool Pool => _pool;

    /// <summary>When a call starting now reaches this timeout, in <see cref="MonotonicClock"/> time (for the retry inside it).</summary>
    internal long DeadlineFromNow() => _clock.Now + Timeout.Ticks;

    /// <summary>Runs the rest of <paramref name="call"/> under the timeout.</summary>
    internal ValueTask<Outcome<TResult>> ExecuteCoreAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken) =>
        ExecuteCoreAsync(in call, null, 0, cancellationToken);

    /// <summary>
    /// Runs the rest of <paramref name="call"/> under this timeout and, when <paramref name="outer"/> is given, also under the outer
    /// timeout ending at <paramref name="outerDeadline"/>: one timer, armed for whichever ends first, reported as that one.
    /// </summary>
    /// <remarks>
    /// The pipeline's attempt timeout takes over the total timeout this way, so an attempt arms one timer instead of two;
    /// the retry between attempts knows the deadline and never waits past it, so nothing else needs the total's timer.
    /// </remarks>
    internal ValueTask<Outcome<TResult>> ExecuteCoreAsync<TState, TResult>(
        in PipelineCall<TState, TResult> call, TimeoutStrategy? outer, long outerDeadline, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(new OperationCanceledException(cancellationToken)));
        }

        // The timer is armed before the operation runs: an operation that blocks before its first await (or never
        // awaits) is still cancelled at the limit, as long as it watches its token.
        var scope = Enter(cancellationToken, outer, outerDeadline);
        ValueTask<Outcome<TResult>> task;
        try
        {
            task = call.NextAsync(scope.Token);
        }
        catch (Exception ex)
        {
            return new ValueTask<Outcome<TResult>>(Exit(scope, Outcome.FromException<TResult>(ex), call.Context, cancellationToken));
        }

        if (task.IsCompletedSuccessfully)
        {
            return new ValueTask<Outcome<TResult>>(Exit(scope, task.Result, call.Context, cancellationToken));
        }

        return AwaitAsync(task, scope, call.Context, cancellationToken);
    }

    // Pooled: an I/O call completes asynchronously, and each layer's state machine would otherwise be a new box per call.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome<TResult>> AwaitAsync<TResult>(ValueTask<Outcome<TResult>> task, TimeoutScope scope, ResilienceContext? context, CancellationToken cancellationToken)
    {
        Outcome<TResult> outcome;
        try
        {
            outcome = await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            outcome = Outcome.FromException<TResult>(ex);
        }

        return Exit(scope, outcome, context, cancellationToken);
    }

    /// <summary>
    /// Starts the timeout: rents a pooled source, links it to the caller's token without allocating and arms its timer.
    /// Pair every call with <see cref="Exit{TResult}"/>, which disarms the timer and returns the source to the pool.
    /// </summary>
    internal TimeoutScope Enter(CancellationToken cancellationToken, TimeoutStrategy? outer = null, long outerDeadline = 0)
    {
        var cts = _pool.Rent();
        var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), cts)
            : default;
        var limit = Timeout;
        var firing = this;
        if (outer is not null)
        {
            // An attempt cut at the total's deadline, or at the same instant, was ended by the total: reported as the total,
            // whichever of two timers due together the clock happens to fire first.
            var outerLeft = TimeSpan.FromTicks(outerDeadline - _clock.Now);
            if (outerLeft <= limit)
            {
                limit = outerLeft;
                firing = outer;
            }
        }

        CoarseTimer.Registration coarse = default;
        if (_coarse && limit >= CoarseTimer.MinimumLimit)
        {
            coarse = CoarseTimer.Shared.TryArm(cts, limit);
        }

        if (!coarse.IsArmed)
        {
            if (limit > TimeSpan.Zero)
            {
                cts.CancelAfter(limit);
            }
            else
            {
                cts.Cancel();
            }
        }

        return new TimeoutScope(cts, registration, firing, coarse);
    }

    internal Outcome<TResult> Exit<TResult>(in TimeoutScope scope, in Outcome<TResult> outcome, ResilienceContext? context, CancellationToken cancellationToken)
    {
        var cts = scope.Source;

        // Unregister first: after Dispose the caller's callback can no longer cancel a source that went back to the pool.
        scope.Registration.Dispose();

        // A source whose coarse timer is already firing belongs to the scanner now: it may be cancelled at any moment,
        // so it never goes back to the pool (nor is it disposed under the scanner's feet).
        bool reusable = !scope.Coarse.IsArmed || CoarseTimer.Shared.TryDisarm(scope.Coarse);
        bool timedOut = cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
        if (reusable)
        {
            _pool.Return(cts);
        }

        // Whatever the operation threw once its token was cancelled by us (a cancellation, or e.g. the I/O error of a
        // closed socket) is the timeout's doing: it is reported as the timeout, with the operation's exception inside.
        // An inner timeout that fired first stays the reported one; a result that beat the limit stands.
        if (timedOut && outcome.Exception is { } failure && failure is not OperationTimeoutException)
        {
            return Outcome.FromException<TResult>(scope.Firing.TimedOut(failure, context, cancellationToken));
        }

        return outcome;
    }

    /// <summary>Reports that this timeout fired (metric and log event) and returns the exception that says so.</summary>
    private OperationTimeoutException TimedOut(Exception inner, ResilienceContext? context, CancellationToken cancellationToken)
    {
        _telemetry.RecordTimeout(Name, _kindTag);
        TimeoutLog.TimeoutOccurred(_logger, _kindTag, Name, Timeout.TotalMilliseconds);
        _onTimeout?.Invoke(new TimeoutArguments(Kind, Timeout, context ?? ResilienceContext.ForCall(cancellationToken)));
        return new OperationTimeoutException(Kind, Timeout, Name, inner);
    }
}

/// <summary>One armed timeout: the pooled source whose token the operation observes, and its link to the caller's token.</summary>
internal readonly struct TimeoutScope
{
    public TimeoutScope(CancellationTokenSource source, CancellationTokenRegistration registration, TimeoutStrategy firing, CoarseTimer.Registration coarse)
    {
        Source = source;
        Registration = registration;
        Firing = firing;
        Coarse = coarse;
    }

    /// <summary>The coarse timer's slot, when the limit was armed there rather than with <c>CancelAfter</c>.</summary>
    public CoarseTimer.Registration Coarse { get; }

    /// <summary>The timeout the timer was armed for: this strategy, or the outer one when it ends first.</summary>
    public TimeoutStrategy Firing { get; }

    public CancellationTokenSource Source { get; }

    public CancellationTokenRegistration Registration { get; }

    /// <summary>Gets the token to pass to the operation.</summary>
    public CancellationToken Token => Source.Token;
}
