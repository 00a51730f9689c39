using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Telemetry;
using Resilience.Time;
using Resilience.Timeouts;

namespace Resilience.Retry;

/// <summary>Runs an operation and retries its failures with backoff, jitter, an optional budget and statistics.</summary>
/// <remarks>
/// <para>
/// Usable alone or inside a pipeline. A call that succeeds on its first attempt and completes synchronously
/// allocates nothing and runs no async state machine; retries run in a separate slow path.
/// </para>
/// <para>
/// Nothing is retried once the caller's token is cancelled; a cancellation during the delay surfaces as
/// <see cref="OperationCanceledException"/>. When retries are exhausted (or the budget is empty) the last failure
/// surfaces: its exception, or its result when a result was retried.
/// </para>
/// <para>
/// Retry knows the time left: the pipeline's total timeout and the <see cref="Deadline"/> the call runs under. A
/// delay that would end past that deadline is never started: the last real failure surfaces at once, the
/// <c>RetriesStoppedByDeadline</c> event (1203) is logged and <see cref="RetryOptions{TResult}.OnRetriesStopped"/> is
/// told <see cref="RetryStopReason.DeadlineReached"/>.
/// </para>
/// <para>Thread-safe. The strategy copies the options when built; later changes to them have no effect.</para>
/// </remarks>
public sealed class RetryStrategy
{
    private readonly RetrySchedule _schedule;
    private readonly int _maxRetries;
    private readonly Type? _resultType;
    private readonly Func<Exception, bool>? _shouldHandle;
    private readonly Delegate? _shouldHandleOutcome;
    private readonly Delegate? _retryAfter;
    private readonly Delegate? _onRetry;
    private readonly Delegate? _onRetriesStopped;
    private readonly RetryBudget? _budget;
    private const int MaxRefusalsWaited = 16;

    private readonly bool _waitOutShortBreaks;
    private readonly TimeSpan _baseDelay;
    private readonly TimeProvider _timeProvider;
    private readonly MonotonicClock _clock;
    private readonly Random _random;
    private readonly ILogger _logger;
    private readonly RetryTelemetry _telemetry;

    /// <summary>Initializes a new instance of the <see cref="RetryStrategy"/> class.</summary>
    /// <param name="options">The retry settings; validated here with the same rules as configuration.</param>
    /// <param name="timeProvider">The clock the delays wait on; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">Receives retry log events; none when <see langword="null"/>.</param>
    /// <param name="random">
    /// The jitter's random source; <see cref="Random.Shared"/> when <see langword="null"/>. A seeded <see cref="Random"/>
    /// (to pin the schedule in a test) is drawn from under a lock, as it is not thread-safe.
    /// </param>
    /// <param name="statistics">Counters to update, for example shared per dependency; a new instance when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter the retry's instruments report on (DI's <see cref="IMeterFactory"/>); the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public RetryStrategy(
        RetryOptions options,
        TimeProvider? timeProvider = null,
        ILogger? logger = null,
        Random? random = null,
        RetryStatistics? statistics = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        RetryOptionsValidator.ThrowIfInvalid(options);
        _schedule = new RetrySchedule(options);
        _maxRetries = options.MaxRetries;
        _waitOutShortBreaks = options.WaitOutShortBreaks;
        _baseDelay = options.BaseDelay;
        _resultType = options.ResultType;
        _shouldHandle = options.ShouldHandle;
        _budget = options.Budget;
        var callbacks = options.GetTypedCallbacks();
        _shouldHandleOutcome = callbacks.ShouldHandleOutcome;
        _retryAfter = callbacks.RetryAfter;
        _onRetry = callbacks.OnRetry;
        _onRetriesStopped = callbacks.OnRetriesStopped;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _clock = new MonotonicClock(_timeProvider);
        _logger = logger ?? NullLogger.Instance;
        _telemetry = ResilienceMeter.Instruments<RetryTelemetry>(meterFactory);
        _random = random ?? Random.Shared;
        Statistics = statistics ?? new RetryStatistics();
        Name = options.Name ?? RetryConstants.DefaultName;
    }

    /// <summary>Gets the name reported in metrics and logs.</summary>
    public string Name { get; }

    /// <summary>No deadline known to the pipeline (the ambient <see cref="Deadline"/> still applies).</summary>
    internal const long NoDeadline = long.MaxValue;

    /// <summary>Gets the counters of how calls through this strategy ended.</summary>
    public RetryStatistics Statistics { get; }

#pragma warning disable RS0026 // The overloads differ by the operation's shape, so optional tokens cannot make a call ambiguous.

    /// <summary>Runs <paramref name="operation"/>, retrying its failures; throws the last failure.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation; a static lambda avoids a closure.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token, passed to each attempt and to the delays.</param>
    /// <returns>The result of the first successful attempt.</returns>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken = default) =>
        OutcomeInvoker.Unwrap(ExecuteOutcomeAsync(operation, state, cancellationToken));

    /// <summary>Runs <paramref name="operation"/>, retrying its failures; throws the last failure.</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="cancellationToken">The caller's token, passed to each attempt and to the delays.</param>
    /// <returns>The result of the first successful attempt.</returns>
    public ValueTask<TResult> ExecuteAsync<TResult>(
        Func<CancellationToken, ValueTask<TResult>> operation, CancellationToken cancellationToken = default) =>
        ExecuteAsync(static (op, ct) => op(ct), operation, cancellationToken);

    /// <summary>Runs <paramref name="operation"/>, retrying its failures, and returns the final outcome instead of throwing.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation; a static lambda avoids a closure.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token, passed to each attempt and to the delays.</param>
    /// <returns>The first successful outcome, or the last failure.</returns>
    public ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteCoreAsync(
            static (s, ct) => OutcomeInvoker.InvokeOperation(s, ct),
            new OperationState<TState, TResult>(operation, state),
            NoDeadline,
            cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> synchronously, retrying its failures (blocking during delays); throws the last failure.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation; a static lambda avoids a closure.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token, passed to each attempt and to the delays.</param>
    /// <returns>The result of the first successful attempt.</returns>
    public TResult Execute<TState, TResult>(
        Func<TState, CancellationToken, TResult> operation, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var shouldRetry = ShouldHandleOutcomeFor<TResult>();
        Outcome<TResult> outcome;
        try
        {
            outcome = Outcome.FromResult(operation(state, cancellationToken));
        }
        catch (Exception ex)
        {
            outcome = Outcome.FromException<TResult>(ex);
        }

        if (!outcome.HasException && (shouldRetry is null || !shouldRetry(outcome)))
        {
            RecordFirstTrySuccess();
            return outcome.Result!;
        }

        return ExecuteSyncSlow(outcome, operation, state, cancellationToken).GetResultOrThrow();
    }

    /// <summary>Runs <paramref name="operation"/>, which returns nothing, retrying its failures; throws the last failure.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation.</typeparam>
    /// <param name="operation">The operation; a static lambda avoids a closure.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token, passed to each attempt and to the delays.</param>
    /// <returns>A task that completes when an attempt succeeds.</returns>
    public ValueTask ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask> operation, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return VoidOperation.Discard(ExecuteAsync(static (c, ct) => VoidOperation.InvokeAsync(c, ct), new VoidOperation.Async<TState>(operation, state), cancellationToken));
    }

    /// <summary>Runs <paramref name="operation"/>, which returns nothing, retrying its failures; throws the last failure.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="cancellationToken">The caller's token, passed to each attempt and to the delays.</param>
    /// <returns>A task that completes when an attempt succeeds.</returns>
    public ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> operation, CancellationToken cancellationToken = default) =>
        ExecuteAsync(static (op, ct) => op(ct), operation, cancellationToken);

    /// <summary>Runs <paramref name="operation"/>, which returns nothing, retrying its failures, and returns the final outcome instead of throwing.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation.</typeparam>
    /// <param name="operation">The operation; a static lambda avoids a closure.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token, passed to each attempt and to the delays.</param>
    /// <returns>Success, or the last failure.</returns>
    public ValueTask<Outcome<VoidResult>> ExecuteOutcomeAsync<TState>(
        Func<TState, CancellationToken, ValueTask> operation, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteOutcomeAsync(static (c, ct) => VoidOperation.InvokeAsync(c, ct), new VoidOperation.Async<TState>(operation, state), cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/>, which returns nothing, synchronously, retrying its failures (blocking during delays); throws the last failure.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation.</typeparam>
    /// <param name="operation">The operation; a static lambda avoids a closure.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token, passed to each attempt and to the delays.</param>
    public void Execute<TState>(Action<TState, CancellationToken> operation, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        Execute(static (c, ct) => VoidOperation.Invoke(c, ct), new VoidOperation.Sync<TState>(operation, state), cancellationToken);
    }
#pragma warning restore RS0026

    /// <summary>
    /// The pipeline's entry point: retries <paramref name="attempt"/>, which reports failures as outcomes.
    /// A synchronously completed first-try success allocates nothing.
    /// </summary>
    /// <param name="attempt">One attempt.</param>
    /// <param name="state">The state passed to <paramref name="attempt"/>.</param>
    /// <param name="deadline">When the call must end, in <see cref="MonotonicClock"/> time of this strategy's provider; <see cref="NoDeadline"/> when unknown.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    internal ValueTask<Outcome<TResult>> ExecuteCoreAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<Outcome<TResult>>> attempt, TState state, long deadline, CancellationToken cancellationToken)
    {
        var shouldRetry = ShouldHandleOutcomeFor<TResult>();
        ValueTask<Outcome<TResult>> task;
        try
        {
            task = attempt(state, cancellationToken);
        }
        catch (Exception ex)
        {
            return RetryLoopAsync(new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(ex)), attempt, state, deadline, cancellationToken);
        }

        if (task.IsCompletedSuccessfully)
        {
            var outcome = task.Result;
            if (!outcome.HasException && (shouldRetry is null || !shouldRetry(outcome)))
            {
                RecordFirstTrySuccess();

                // A new ValueTask: the attempt's may wrap a pooled source already consumed by reading Result.
                return new ValueTask<Outcome<TResult>>(outcome);
            }

            return RetryLoopAsync(new ValueTask<Outcome<TResult>>(outcome), attempt, state, deadline, cancellationToken);
        }

        return RetryLoopAsync(task, attempt, state, deadline, cancellationToken);
    }

    /// <summary>The computed delay before retry <paramref name="attempt"/>; a caller's seeded source is not thread-safe, so it is used under a lock.</summary>
    private TimeSpan ComputeDelay(int attempt, ref double jitterState)
    {
        if (ReferenceEquals(_random, Random.Shared))
        {
            return _schedule.Compute(attempt, ref jitterState, _random);
        }

        lock (_random)
        {
            return _schedule.Compute(attempt, ref jitterState, _random);
        }
    }

    private async ValueTask<Outcome<TResult>> RetryLoopAsync<TState, TResult>(
        ValueTask<Outcome<TResult>> pending,
        Func<TState, CancellationToken, ValueTask<Outcome<TResult>>> attempt,
        TState state,
        long deadline,
        CancellationToken cancellationToken)
    {
        // One await per attempt, the first one's included: a throw, synchronous or not, becomes the attempt's failed outcome.
        double jitterState = 0;
        for (int retries = 0; ; retries++)
        {
            Outcome<TResult> outcome;
            try
            {
                outcome = await pending.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                outcome = Outcome.FromException<TResult>(ex);
            }

            if (!TryScheduleRetry(outcome, retries, ref jitterState, deadline, cancellationToken, out var delay))
            {
                return outcome;
            }

            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex)
                {
                    RecordEnd(RetryTelemetry.NotRetried);
                    return Outcome.FromException<TResult>(ex);
                }
            }

            try
            {
                pending = attempt(state, cancellationToken);
            }
            catch (Exception ex)
            {
                pending = new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(ex));
            }
        }
    }

    private Outcome<TResult> ExecuteSyncSlow<TState, TResult>(
        Outcome<TResult> outcome, Func<TState, CancellationToken, TResult> operation, TState state, CancellationToken cancellationToken)
    {
        const long deadline = NoDeadline;
        double jitterState = 0;
        for (int retries = 0; ; retries++)
        {
            if (!TryScheduleRetry(outcome, retries, ref jitterState, deadline, cancellationToken, out var delay))
            {
                return outcome;
            }

            if (delay > TimeSpan.Zero)
            {
                try
                {
                    // The caller chose a synchronous API: blocking here is the contract.
                    Task.Delay(delay, _timeProvider, cancellationToken).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException ex)
                {
                    RecordEnd(RetryTelemetry.NotRetried);
                    return Outcome.FromException<TResult>(ex);
                }
            }

            try
            {
                outcome = Outcome.FromResult(operation(state, cancellationToken));
            }
            catch (Exception ex)
            {
                outcome = Outcome.FromException<TResult>(ex);
            }
        }
    }

    /// <summary>Decides whether <paramref name="outcome"/> gets another attempt; records how the call ended when not.</summary>
    private bool TryScheduleRetry<TResult>(
        in Outcome<TResult> outcome, int retriesDone, ref double jitterState, long deadline, CancellationToken cancellationToken, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        var shouldRetry = ShouldHandleOutcomeFor<TResult>();
        bool retryable = shouldRetry is not null
            ? shouldRetry(outcome)
            : outcome.HasException && (_shouldHandle?.Invoke(outcome.Exception!) ?? outcome.Exception is not OperationCanceledException);

        if (!retryable)
        {
            if (outcome.HasException)
            {
                RecordEnd(RetryTelemetry.NotRetried);
            }
            else if (retriesDone == 0)
            {
                RecordFirstTrySuccess();
            }
            else
            {
                RecordEnd(RetryTelemetry.RetriedSuccess);
                _budget?.RecordSuccess();
            }

            return false;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            RecordEnd(RetryTelemetry.NotRetried);
            return false;
        }

        string reason = RetryTelemetry.ReasonOf(outcome.Exception);

        // A refusal waited out never reached the dependency, so it does not use up MaxRetries: a call waits through the
        // young outage while the break stays short (the growing break ends that), at most MaxRefusalsWaited extra times.
        var waitingOutBreak = _waitOutShortBreaks && outcome.Exception is CircuitBreaking.BrokenCircuitException
            && retriesDone < _maxRetries + MaxRefusalsWaited;
        if (retriesDone >= _maxRetries && !waitingOutBreak)
        {
            RecordEnd(RetryTelemetry.Exhausted);
            RetryLog.RetriesExhausted(_logger, Name, retriesDone, reason, outcome.Exception);
            Stopped(outcome, retriesDone, RetryStopReason.Exhausted, TimeSpan.Zero, null, TimeLeft(deadline));
            return false;
        }

        int attempt = retriesDone + 1;
        var retryAfter = _retryAfter is null ? null : Unsafe.As<Func<Outcome<TResult>, TimeSpan?>>(_retryAfter);
        TimeSpan? hint = retryAfter?.Invoke(outcome);

        // A refused attempt waits until one base delay after the open circuit's next probe is due: the probe has answered by
        // then, so the call spends one retry per probe, none on refusals in a row, and a call on its last retry does not wake
        // with the probe still in flight (the backoff stays the floor, MaxDelay the cap).
        if (hint is null && _waitOutShortBreaks && outcome.Exception is CircuitBreaking.BrokenCircuitException { State: CircuitBreaking.CircuitState.Open } refused)
        {
            hint = refused.RemainingBreak + _baseDelay;
        }
        delay = ApplyRetryAfter(hint, ComputeDelay(attempt, ref jitterState), attempt);

        // A delay that ends past the deadline would only turn the real failure into a timeout: stop now and surface it.
        var timeLeft = TimeLeft(deadline);
        if (timeLeft != Timeout.InfiniteTimeSpan && delay >= timeLeft)
        {
            RecordEnd(RetryTelemetry.DeadlineReached);
            RetryLog.RetriesStoppedByDeadline(_logger, Name, attempt, delay.TotalMilliseconds, timeLeft.TotalMilliseconds, reason, outcome.Exception);
            Stopped(outcome, retriesDone, RetryStopReason.DeadlineReached, delay, hint, timeLeft);
            return false;
        }

        if (_budget is not null && !_budget.TryWithdraw())
        {
            RecordEnd(RetryTelemetry.BudgetRejected);
            _telemetry.RecordBudgetExhausted(Name);
            RetryLog.RetryBudgetExhausted(_logger, Name, attempt, reason, outcome.Exception);
            Stopped(outcome, retriesDone, RetryStopReason.BudgetExhausted, TimeSpan.Zero, hint, timeLeft);
            return false;
        }

        Statistics.RecordRetry();
        _telemetry.RecordRetry(Name, attempt, reason, delay);
        RetryLog.RetryScheduled(_logger, Name, attempt, delay.TotalMilliseconds, reason, outcome.Exception);
        if (_onRetry is not null)
        {
            Unsafe.As<Action<RetryArguments<TResult>>>(_onRetry)(new RetryArguments<TResult>(attempt, delay, outcome, hint, timeLeft));
        }

        return true;
    }

    /// <summary>The delay of a retry given the server's hint: the computed backoff is the floor, <see cref="RetryOptions.MaxDelay"/> the cap.</summary>
    private TimeSpan ApplyRetryAfter(TimeSpan? hint, TimeSpan computed, int attempt)
    {
        if (hint is not { } requested)
        {
            return computed;
        }

        if (requested > _schedule.MaxDelay)
        {
            RetryLog.RetryAfterAdjusted(_logger, Name, attempt, requested.TotalMilliseconds, _schedule.MaxDelay.TotalMilliseconds, RetryTelemetry.HintCapped);
            return _schedule.MaxDelay;
        }

        if (requested < computed)
        {
            // Zero, negative or merely short hints would make back-to-back retries: the backoff still applies.
            RetryLog.RetryAfterAdjusted(_logger, Name, attempt, requested.TotalMilliseconds, computed.TotalMilliseconds, RetryTelemetry.HintBelowBackoff);
            return computed;
        }

        return requested;
    }

    /// <summary>The time left before <paramref name="deadline"/> or the ambient <see cref="Deadline"/>, whichever is sooner.</summary>
    private TimeSpan TimeLeft(long deadline)
    {
        var left = AmbientDeadline.TimeLeft();
        if (deadline != NoDeadline)
        {
            var own = TimeSpan.FromTicks(Math.Max(0, deadline - _clock.Now));
            if (left == Timeout.InfiniteTimeSpan || own < left)
            {
                left = own;
            }
        }

        return left;
    }

    private void Stopped<TResult>(in Outcome<TResult> outcome, int retries, RetryStopReason reason, TimeSpan delay, TimeSpan? hint, TimeSpan timeLeft)
    {
        if (_onRetriesStopped is not null)
        {
            Unsafe.As<Action<RetryStoppedArguments<TResult>>>(_onRetriesStopped)(new RetryStoppedArguments<TResult>(retries, reason, delay, hint, timeLeft, outcome));
        }
    }

    /// <summary>The typed outcome predicate, after checking the options were made for <typeparamref name="TResult"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Func<Outcome<TResult>, bool>? ShouldHandleOutcomeFor<TResult>()
    {
        if (_resultType is null)
        {
            return null;
        }

        if (_resultType != typeof(TResult))
        {
            ThrowResultTypeMismatch(typeof(TResult));
        }

        return _shouldHandleOutcome is null ? null : Unsafe.As<Func<Outcome<TResult>, bool>>(_shouldHandleOutcome);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RecordFirstTrySuccess()
    {
        Statistics.RecordFirstTrySuccess();
        _budget?.RecordSuccess();
        if (_telemetry.CallsEnabled)
        {
            _telemetry.RecordCall(Name, RetryTelemetry.FirstTrySuccess);
        }
    }

    private void RecordEnd(string result)
    {
        switch (result)
        {
            case RetryTelemetry.RetriedSuccess:
                Statistics.RecordRetriedSuccess();
                break;
            case RetryTelemetry.Exhausted:
                Statistics.RecordExhausted();
                break;
            case RetryTelemetry.BudgetRejected:
                Statistics.RecordBudgetRejection();
                break;
            case RetryTelemetry.DeadlineReached:
                Statistics.RecordDeadlineStop();
                break;
            default:
                Statistics.RecordNotRetried();
                break;
        }

        _telemetry.RecordCall(Name, result);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowResultTypeMismatch(Type actual) =>
        throw new InvalidOperationException(
            $"Retry strategy '{Name}' was configured with RetryOptions<{_resultType!.Name}> but executed an operation returning {actual.Name}.");

}
