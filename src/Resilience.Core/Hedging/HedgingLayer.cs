using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Resilience.Telemetry;
using Resilience.Time;
using Resilience.Timeouts;

namespace Resilience.Hedging;

/// <summary>
/// Starts further attempts of the operation while earlier ones run, and returns the first acceptable outcome. Inside
/// retry (a retry runs a whole hedged round again, so the hedge delay is never lost behind a backoff) and the total
/// timeout (which bounds every attempt); outside the breaker and the attempt timeout, so each attempt asks the breaker
/// and gets its own time limit.
/// </summary>
/// <remarks>
/// Cost: when the first attempt completes synchronously and is accepted, one pooled token source and, with a cancellable
/// caller token, one registration on it; nothing allocated. Otherwise the round runs in an async method holding a list
/// of attempts, a timer for the delay and a task per attempt.
/// </remarks>
internal sealed class HedgingLayer : PipelineLayer
{
    private readonly string _name;
    private readonly int _maxHedgedAttempts;
    private readonly TimeSpan _delay;
    private readonly Func<HedgingDelayArguments, TimeSpan>? _delayGenerator;
    private readonly Func<Exception, bool>? _shouldHandle;
    private readonly Delegate? _shouldHandleOutcome;
    private readonly Type? _resultType;
    private readonly TimeProvider _timeProvider;
    private readonly MonotonicClock _clock;
    private readonly ILogger _logger;
    private readonly HedgingTelemetry _telemetry;
    private readonly Action<HedgingArguments>? _onHedging;

    // The first attempt's token source: not bound to the pipeline's clock (nothing here cancels after a time), so always poolable.
    private readonly CancellationTokenSourcePool _sources = new(TimeProvider.System);

    private HedgingLayer(string name, HedgingOptions options, TimeProvider timeProvider, ILogger logger, HedgingTelemetry telemetry)
        : base(
            LayerKind.Hedging,
            options,
            $"MaxHedgedAttempts={options.MaxHedgedAttempts}, Delay={options.Delay}, DelayGenerator={options.DelayGenerator is not null}")
    {
        _name = name;
        _maxHedgedAttempts = options.MaxHedgedAttempts;
        _delay = options.Delay;
        _delayGenerator = options.DelayGenerator;
        _shouldHandle = options.ShouldHandle;
        _shouldHandleOutcome = options.ShouldHandleOutcomeDelegate;
        _resultType = options.ResultType;
        _timeProvider = timeProvider;
        _clock = new MonotonicClock(timeProvider);
        _logger = logger;
        _telemetry = telemetry;
        _onHedging = options.OnHedging;
    }

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        if (_resultType is not null && _resultType != typeof(TResult))
        {
            return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(new InvalidOperationException(
                $"Pipeline '{_name}': the hedging options are typed for {_resultType.Name} results, not {typeof(TResult).Name}.")));
        }

        if (call.Context is { HedgingAllowed: false })
        {
            return call.NextAsync(cancellationToken);
        }

        var source = _sources.Rent();
        var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), source);

        // The first attempt runs on the call's own context: hedged attempt 0 (a nested hedged pipeline starts from 0 again).
        if (call.Context is { } context)
        {
            context.HedgedAttempt = 0;
        }

        var pending = call.NextAsync(source.Token);
        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            if (!IsHandled(in outcome, call.ShouldHandleResult))
            {
                link.Dispose();
                _sources.Return(source);
                return new ValueTask<Outcome<TResult>>(outcome);
            }

            return HedgeAsync(call, new Attempt<TResult>(0, source, link, Task.FromResult(outcome)), cancellationToken);
        }

        return HedgeAsync(call, new Attempt<TResult>(0, source, link, pending.AsTask()), cancellationToken);
    }

    /// <summary>Runs the round once the first attempt did not settle it synchronously: hedges after each delay, or at once after a failure.</summary>
    private async ValueTask<Outcome<TResult>> HedgeAsync<TState, TResult>(PipelineCall<TState, TResult> call, Attempt<TResult> primary, CancellationToken cancellationToken)
    {
        var running = new List<Attempt<TResult>>(_maxHedgedAttempts + 1) { primary };
        var waits = new List<Task>(_maxHedgedAttempts + 2);
        var started = 1;
        var failedNow = false;
        var lastFailure = default(Outcome<TResult>);
        var hasFailure = false;
        try
        {
            while (true)
            {
                // Finished attempts decide first: an acceptable outcome wins, a failure starts the next attempt at once.
                for (var i = 0; i < running.Count; i++)
                {
                    var attempt = running[i];
                    if (!attempt.Task.IsCompleted)
                    {
                        continue;
                    }

                    running.RemoveAt(i--);
                    var outcome = attempt.Complete();
                    if (!IsHandled(in outcome, call.ShouldHandleResult))
                    {
                        Abandon(running);
                        if (started > 1)
                        {
                            _telemetry.RecordWinner(_logger, _name, attempt.Number, started);
                        }

                        if (hasFailure)
                        {
                            DisposeResult(in lastFailure);
                        }

                        return outcome;
                    }

                    if (hasFailure)
                    {
                        DisposeResult(in lastFailure);
                    }

                    lastFailure = outcome;
                    hasFailure = true;
                    failedNow = true;
                }

                // Past the total timeout's deadline no attempt could finish: none starts.
                var timeLeft = TimeLeft(call.Deadline);
                var mayStart = started <= _maxHedgedAttempts && timeLeft > TimeSpan.Zero && !cancellationToken.IsCancellationRequested;
                if (mayStart && failedNow)
                {
                    running.Add(Start(call, started++, HedgingTelemetry.TriggerFailure, TimeSpan.Zero, cancellationToken));
                    failedNow = false;
                    continue;
                }

                failedNow = false;
                if (running.Count == 0)
                {
                    if (started > 1)
                    {
                        _telemetry.RecordExhausted(_logger, _name, started, lastFailure.Exception);
                    }

                    return lastFailure;
                }

                var delay = mayStart ? DelayBefore(started) : Timeout.InfiniteTimeSpan;
                if (delay >= timeLeft)
                {
                    // A hedge due after the deadline never starts; only a failure before it can start the next attempt.
                    delay = Timeout.InfiniteTimeSpan;
                }

                if (delay == TimeSpan.Zero)
                {
                    running.Add(Start(call, started++, HedgingTelemetry.TriggerDelay, delay, cancellationToken));
                    continue;
                }

                waits.Clear();
                foreach (var attempt in running)
                {
                    waits.Add(attempt.Task);
                }

                if (delay == Timeout.InfiniteTimeSpan)
                {
                    await Task.WhenAny(waits).ConfigureAwait(false);
                    continue;
                }

                using var timer = new CancellationTokenSource();
                var elapsed = Task.Delay(delay, _timeProvider, timer.Token);
                waits.Add(elapsed);
                if (await Task.WhenAny(waits).ConfigureAwait(false) == elapsed)
                {
                    running.Add(Start(call, started++, HedgingTelemetry.TriggerDelay, delay, cancellationToken));
                }
                else
                {
                    timer.Cancel();
                }
            }
        }
        catch (Exception e)
        {
            // A predicate or the delay generator threw: no attempt is left running, and the caller gets the exception.
            Abandon(running);
            if (hasFailure)
            {
                DisposeResult(in lastFailure);
            }

            return Outcome.FromException<TResult>(e);
        }
    }

    private Attempt<TResult> Start<TState, TResult>(in PipelineCall<TState, TResult> call, int number, string trigger, TimeSpan delay, CancellationToken cancellationToken)
    {
        _telemetry.RecordHedge(_logger, _name, number, trigger, delay);
        var source = new CancellationTokenSource();
        var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), source);

        // Each hedged attempt has a context of its own: its number, and a token no other attempt writes over.
        var context = ResilienceContext.ForHedgedAttempt(call.Context, number, source.Token);
        _onHedging?.Invoke(new HedgingArguments(number, delay, context));
        return new Attempt<TResult>(number, source, link, RunAsync(call.WithContext(context), source.Token));
    }

    private static async Task<Outcome<TResult>> RunAsync<TState, TResult>(PipelineCall<TState, TResult> call, CancellationToken cancellationToken) =>
        await call.NextAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>The time left before the total timeout's <paramref name="deadline"/>; <see cref="TimeSpan.MaxValue"/> without one.</summary>
    private TimeSpan TimeLeft(long deadline) =>
        deadline == PipelineDeadline.None ? TimeSpan.MaxValue : TimeSpan.FromTicks(deadline - _clock.Now);

    private TimeSpan DelayBefore(int attemptNumber)
    {
        if (_delayGenerator is null)
        {
            return _delay;
        }

        var delay = _delayGenerator(new HedgingDelayArguments(attemptNumber));
        return HedgingOptionsValidator.IsValidDelay(delay)
            ? delay
            : throw new InvalidOperationException($"Pipeline '{_name}': the hedging delay generator returned {delay} for attempt {attemptNumber}; a delay must be between zero and one day, or infinite.");
    }

    /// <summary>Whether <paramref name="outcome"/> is a failure: it never wins, and the next attempt starts at once.</summary>
    private bool IsHandled<TResult>(in Outcome<TResult> outcome, Func<TResult, bool>? shouldHandleResult)
    {
        if (_shouldHandleOutcome is not null)
        {
            // ExecuteAsync checked the result type.
            return Unsafe.As<Func<Outcome<TResult>, bool>>(_shouldHandleOutcome)(outcome);
        }

        if (outcome.HasException)
        {
            return _shouldHandle?.Invoke(outcome.Exception!) ?? outcome.Exception is not OperationCanceledException;
        }

        return shouldHandleResult is not null && shouldHandleResult(outcome.Result!);
    }

    /// <summary>Cancels the attempts still running; each one's result is disposed when it completes.</summary>
    private void Abandon<TResult>(List<Attempt<TResult>> running)
    {
        foreach (var attempt in running)
        {
            try
            {
                attempt.Cancel();
            }
            catch (AggregateException e)
            {
                // A callback registered on the attempt's token threw: the attempt is still abandoned, and the error reported.
                HedgingTelemetry.CancellationFailed(_logger, e, _name, attempt.Number);
            }
        }

        running.Clear();
    }

    private static void DisposeResult<TResult>(in Outcome<TResult> outcome)
    {
        if (!outcome.HasException && outcome.Result is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    /// <summary>One running attempt: its number, its token source (linked to the caller's) and its task.</summary>
    private sealed class Attempt<TResult>
    {
        private readonly CancellationTokenSource _source;
        private readonly CancellationTokenRegistration _link;

        public Attempt(int number, CancellationTokenSource source, CancellationTokenRegistration link, Task<Outcome<TResult>> task)
        {
            Number = number;
            _source = source;
            _link = link;
            Task = task;
        }

        public int Number { get; }

        public Task<Outcome<TResult>> Task { get; }

        /// <summary>Takes the finished attempt's outcome and frees its token source (not cancelled: a winning result may still hold the token).</summary>
        public Outcome<TResult> Complete()
        {
            Release();
            return Task.Result;
        }

        /// <summary>Cancels the attempt; when it completes, its result is disposed and its token source freed.</summary>
        public void Cancel()
        {
            try
            {
                _source.Cancel();
            }
            finally
            {
                Task.ContinueWith(
                    static (t, s) =>
                    {
                        ((Attempt<TResult>)s!).Release();
                        if (t.IsCompletedSuccessfully)
                        {
                            DisposeResult(t.Result);
                        }
                    },
                    this,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }

        private void Release()
        {
            // Disposing the link first waits for a running cancellation callback, so the source is never cancelled once disposed.
            _link.Dispose();
            _source.Dispose();
        }
    }

    /// <summary>The builder's configuration: the caller's validated options.</summary>
    internal sealed class Spec(HedgingOptions options) : PipelineLayerSpec
    {
        public override LayerKind Kind => LayerKind.Hedging;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new HedgingLayer(context.Name, options, context.TimeProvider, context.Logger, ResilienceMeter.Instruments<HedgingTelemetry>(context.MeterFactory));
    }
}
