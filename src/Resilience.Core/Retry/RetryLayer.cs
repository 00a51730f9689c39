using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Telemetry;
using Resilience.Time;
using Resilience.Timeouts;

namespace Resilience.Retry;

/// <summary>
/// The pipeline's retry: inside the total timeout (whose deadline it respects), outside hedging and the breaker (asked on
/// every attempt). Retries failures with backoff, jitter, an optional budget and statistics.
/// </summary>
/// <remarks>
/// <para>
/// A call that succeeds on its first attempt and completes synchronously allocates nothing and runs no async state
/// machine; retries run in a separate slow path, one loop for synchronous and asynchronous calls alike (a synchronous
/// call's delay blocks its thread).
/// </para>
/// <para>
/// Nothing is retried once the caller's token is cancelled, or when the call's context forbids it
/// (<see cref="ResilienceContext.RetryAllowed"/>); a cancellation during the delay surfaces as
/// <see cref="OperationCanceledException"/>. When retries are exhausted (or the budget is empty) the last failure
/// surfaces: its exception, or its result when a result was retried.
/// </para>
/// <para>
/// Retry knows the time left: the pipeline's total timeout and the <see cref="Deadline"/> the call runs under. A
/// delay that would end past that deadline is never started: the last real failure surfaces at once, the
/// <c>RetriesStoppedByDeadline</c> event (1203) is logged and <see cref="RetryOptions{TResult}.OnRetriesStopped"/> is
/// told <see cref="RetryStopReason.DeadlineReached"/>.
/// </para>
/// </remarks>
internal sealed partial class RetryLayer : PipelineLayer
{
    private readonly RetrySchedule _schedule;
    private readonly int _maxRetries;
    private readonly Type? _resultType;
    private readonly Func<Exception, bool>? _shouldHandle;
    private readonly Delegate? _shouldHandleOutcome;
    private readonly Delegate? _retryAfter;
    private readonly Action<RetryArguments>? _onRetry;
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

    /// <summary>Initializes a new instance of the <see cref="RetryLayer"/> class.</summary>
    /// <param name="options">The retry settings, adapted to the pipeline; validated here with the same rules as configuration.</param>
    /// <param name="described">The caller's options, as <see cref="ResiliencePipeline.Describe"/> shows them.</param>
    /// <param name="timeProvider">The clock the delays wait on; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">Receives retry log events; none when <see langword="null"/>.</param>
    /// <param name="random">
    /// The jitter's random source; <see cref="Random.Shared"/> when <see langword="null"/>. A seeded <see cref="Random"/>
    /// (to pin the schedule in a test) is drawn from under a lock, as it is not thread-safe.
    /// </param>
    /// <param name="statistics">Counters to update, for example shared per dependency; a new instance when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter the retry's instruments report on (DI's <see cref="IMeterFactory"/>); the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    private RetryLayer(
        RetryOptions options,
        RetryOptions described,
        TimeProvider? timeProvider = null,
        ILogger? logger = null,
        Random? random = null,
        RetryStatistics? statistics = null,
        IMeterFactory? meterFactory = null)
        : base(
            LayerKind.Retry,
            described,
            $"MaxRetries={described.MaxRetries}, Backoff={described.Backoff}, BaseDelay={described.BaseDelay}, MaxDelay={described.MaxDelay}, BackoffFactor={described.BackoffFactor}, Jitter={described.Jitter}, Budget={described.Budget is not null}")
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
        _onRetry = options.OnRetry;
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

    /// <summary>Gets the counters of how calls through this strategy ended.</summary>
    public RetryStatistics Statistics { get; }


    /// <inheritdoc />
    public override bool ReadsDeadline => true;

    /// <summary>Runs the rest of the pipeline and retries its failures; a synchronously completed first-try success allocates nothing.</summary>
    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        var shouldRetry = ShouldHandleOutcomeFor<TResult>();
        if (call.Context is { } context)
        {
            context.Attempt = 0;
        }

        // No try/catch on the first attempt: the layers within and the operation's invoker turn every exception into an
        // outcome, and a handler here kept the 32-byte pending result in memory (copied per call, measured in the benchmarks).
        var task = call.NextAsync(cancellationToken);
        if (task.IsCompletedSuccessfully)
        {
            var outcome = task.Result;
            if (!outcome.HasException && (shouldRetry is null || !shouldRetry(outcome)))
            {
                RecordFirstTrySuccess();

                // A new ValueTask: the attempt's may wrap a pooled source already consumed by reading Result.
                return new ValueTask<Outcome<TResult>>(outcome);
            }

            return RetryLoopAsync(new ValueTask<Outcome<TResult>>(outcome), call, cancellationToken);
        }

        return RetryLoopAsync(task, call, cancellationToken);
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

    // Pooled: an I/O call completes asynchronously, and each layer's state machine would otherwise be a new box per call.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome<TResult>> RetryLoopAsync<TState, TResult>(
        ValueTask<Outcome<TResult>> pending, PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        // One await per attempt, the first one's included: a throw, synchronous or not, becomes the attempt's failed outcome.
        // The failure path has the call's context (made now for a call without one), for the callbacks and the attempt number.
        var context = call.GetOrCreateContext(cancellationToken);
        call = call.WithContext(context);
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

            if (!TryScheduleRetry(outcome, retries, ref jitterState, call.Deadline, context, cancellationToken, out var delay))
            {
                return outcome;
            }

            if (delay > TimeSpan.Zero)
            {
                try
                {
                    var ended = outcome.Exception is ExecutionRejectedException rejected ? rejected.Ended : default;
                    await (ended.CanBeCanceled
                        ? WaitUntilEndedAsync(delay, context.IsSynchronous, ended, cancellationToken)
                        : WaitAsync(delay, context.IsSynchronous, cancellationToken)).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex)
                {
                    RecordEnd(RetryTelemetry.NotRetried);
                    return Outcome.FromException<TResult>(ex);
                }
            }

            context.Attempt = retries + 1;
            try
            {
                pending = call.NextAsync(cancellationToken);
            }
            catch (Exception ex)
            {
                pending = new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(ex));
            }
        }
    }

    /// <summary>Waits out a retry delay; a synchronous call blocks its own thread (its caller chose to) instead of waiting on a timer's callback.</summary>
    private Task WaitAsync(TimeSpan delay, bool synchronous, CancellationToken cancellationToken)
    {
        if (!synchronous || !ReferenceEquals(_timeProvider, TimeProvider.System))
        {
            return Task.Delay(delay, _timeProvider, cancellationToken);
        }

        cancellationToken.WaitHandle.WaitOne(delay);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.CompletedTask;
    }

    /// <summary>Waits out a refused attempt's delay, or less: until the refusal <paramref name="ended"/> (a circuit closed early by its probe).</summary>
    private async Task WaitUntilEndedAsync(TimeSpan delay, bool synchronous, CancellationToken ended, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, ended);
        try
        {
            await WaitAsync(delay, synchronous, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The refusal ended before the delay did: try again now.
        }
    }

    /// <summary>Decides whether <paramref name="outcome"/> gets another attempt; records how the call ended when not.</summary>
    private bool TryScheduleRetry<TResult>(
        in Outcome<TResult> outcome, int retriesDone, ref double jitterState, long deadline, ResilienceContext context, CancellationToken cancellationToken, out TimeSpan delay)
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

        if (cancellationToken.IsCancellationRequested || !context.RetryAllowed)
        {
            RecordEnd(RetryTelemetry.NotRetried);
            return false;
        }

        string reason = RetryTelemetry.ReasonOf(outcome.Exception);

        // A refusal waited out never reached the dependency, so it does not use up MaxRetries: a call waits through the
        // young outage while the break stays short (the growing break ends that), at most MaxRefusalsWaited extra times.
        var waitingOutBreak = _waitOutShortBreaks && outcome.Exception is ExecutionRejectedException
            && retriesDone < _maxRetries + MaxRefusalsWaited;
        if (retriesDone >= _maxRetries && !waitingOutBreak)
        {
            RecordEnd(RetryTelemetry.Exhausted);
            RetryLog.RetriesExhausted(_logger, Name, retriesDone, reason, outcome.Exception);
            Stopped(outcome, retriesDone, RetryStopReason.Exhausted, TimeSpan.Zero, null, TimeLeft(deadline), context);
            return false;
        }

        int attempt = retriesDone + 1;
        var retryAfter = _retryAfter is null ? null : Unsafe.As<Func<Outcome<TResult>, TimeSpan?>>(_retryAfter);
        TimeSpan? hint = retryAfter?.Invoke(outcome);

        // A refused attempt waits until one base delay after the open circuit's next probe is due: the probe has answered by
        // then, so the call spends one retry per probe, none on refusals in a row, and a call on its last retry does not wake
        // with the probe still in flight (the backoff stays the floor, MaxDelay the cap).
        if (hint is null && _waitOutShortBreaks && outcome.Exception is ExecutionRejectedException { WaitHint: { } wait })
        {
            hint = wait + _baseDelay;
        }
        delay = ApplyRetryAfter(hint, ComputeDelay(attempt, ref jitterState), attempt);

        // A delay that ends past the deadline would only turn the real failure into a timeout: stop now and surface it.
        var timeLeft = TimeLeft(deadline);
        if (timeLeft != Timeout.InfiniteTimeSpan && delay >= timeLeft)
        {
            RecordEnd(RetryTelemetry.DeadlineReached);
            RetryLog.RetriesStoppedByDeadline(_logger, Name, attempt, delay.TotalMilliseconds, timeLeft.TotalMilliseconds, reason, outcome.Exception);
            Stopped(outcome, retriesDone, RetryStopReason.DeadlineReached, delay, hint, timeLeft, context);
            return false;
        }

        if (_budget is not null && !_budget.TryWithdraw())
        {
            RecordEnd(RetryTelemetry.BudgetRejected);
            _telemetry.RecordBudgetExhausted(Name);
            RetryLog.RetryBudgetExhausted(_logger, Name, attempt, reason, outcome.Exception);
            Stopped(outcome, retriesDone, RetryStopReason.BudgetExhausted, TimeSpan.Zero, hint, timeLeft, context);
            return false;
        }

        Statistics.RecordRetry();
        _telemetry.RecordRetry(Name, attempt, reason, delay);
        RetryLog.RetryScheduled(_logger, Name, attempt, delay.TotalMilliseconds, reason, outcome.Exception?.Message);
        if (_onRetry is not null)
        {
            _onRetry(new RetryArguments(attempt, delay, outcome.Exception, outcome.HasException ? null : outcome.Result, hint, timeLeft, context));
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
        if (deadline != PipelineDeadline.None)
        {
            var own = TimeSpan.FromTicks(Math.Max(0, deadline - _clock.Now));
            if (left == Timeout.InfiniteTimeSpan || own < left)
            {
                left = own;
            }
        }

        return left;
    }

    private void Stopped<TResult>(in Outcome<TResult> outcome, int retries, RetryStopReason reason, TimeSpan delay, TimeSpan? hint, TimeSpan timeLeft, ResilienceContext context)
    {
        if (_onRetriesStopped is not null)
        {
            Unsafe.As<Action<RetryStoppedArguments<TResult>>>(_onRetriesStopped)(new RetryStoppedArguments<TResult>(retries, reason, delay, hint, timeLeft, outcome, context));
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


    /// <summary>The builder's configuration: the caller's validated options.</summary>
    /// <param name="options">The caller's validated options.</param>
    /// <param name="statistics">Counters to update (a pipeline rebuilt by a reload keeps its counters); new ones when <see langword="null"/>.</param>
    internal sealed class Spec(RetryOptions options, RetryStatistics? statistics = null) : PipelineLayerSpec
    {
        public override LayerKind Kind => LayerKind.Retry;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new RetryLayer(PipelineRetryOptions.For(options, context.Name, context.ShouldHandleResult), options, context.TimeProvider, context.Logger, context.Random, statistics, context.MeterFactory);
    }
}
