using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Telemetry;

namespace Resilience.Timeouts;

/// <summary>Runs long background work under a hard time limit: at the limit the work is cancelled and reported failed.</summary>
/// <remarks>
/// At the limit the work's token is cancelled and the call waits, at most the grace period, for the work to stop;
/// then it throws <see cref="OperationTimeoutException"/> (kind <see cref="TimeoutKind.Deadline"/>). Work that did
/// not stop in time is reported (a critical log event) and its eventual failure observed, so it never fails silently.
/// The caller's cancellation surfaces as <see cref="OperationCanceledException"/>.
/// </remarks>
public static class Deadline
{
    /// <summary>Runs <paramref name="work"/> under <paramref name="limit"/>, with the default grace period.</summary>
    /// <typeparam name="TState">The type of the state passed to the work.</typeparam>
    /// <param name="work">The work; it must observe the token it receives.</param>
    /// <param name="state">The state passed to <paramref name="work"/>.</param>
    /// <param name="limit">How long the work may run (the seeds use 15 minutes per task).</param>
    /// <param name="timeProvider">The clock of the limit.</param>
    /// <param name="cancellationToken">The caller's token (for example the host's stopping token).</param>
    /// <returns>A task that completes when the work does.</returns>
    /// <exception cref="OperationTimeoutException">The limit elapsed.</exception>
    public static Task RunAsync<TState>(
        Func<TState, CancellationToken, Task> work, TState state, TimeSpan limit, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync(work, state, new DeadlineOptions { Limit = limit }, timeProvider, NullLogger.Instance, cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> under the deadline described by <paramref name="options"/>.</summary>
    /// <typeparam name="TState">The type of the state passed to the work.</typeparam>
    /// <param name="work">The work; it must observe the token it receives.</param>
    /// <param name="state">The state passed to <paramref name="work"/>.</param>
    /// <param name="options">The limit, grace period and name; validated here.</param>
    /// <param name="timeProvider">The clock of the limit.</param>
    /// <param name="logger">Receives the deadline log events.</param>
    /// <param name="cancellationToken">The caller's token (for example the host's stopping token).</param>
    /// <returns>A task that completes when the work does.</returns>
    /// <exception cref="OperationTimeoutException">The limit elapsed.</exception>
    public static Task RunAsync<TState>(
        Func<TState, CancellationToken, Task> work,
        TState state,
        DeadlineOptions options,
        TimeProvider timeProvider,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync(
            static async (s, ct) =>
            {
                await s.Work(s.State, ct).ConfigureAwait(false);
                return true;
            },
            (Work: work, State: state),
            options,
            timeProvider,
            logger,
            cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> under the deadline described by <paramref name="options"/> and returns its result.</summary>
    /// <typeparam name="TState">The type of the state passed to the work.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="work">The work; it must observe the token it receives.</param>
    /// <param name="state">The state passed to <paramref name="work"/>.</param>
    /// <param name="options">The limit, grace period and name; validated here.</param>
    /// <param name="timeProvider">The clock of the limit.</param>
    /// <param name="logger">Receives the deadline log events.</param>
    /// <param name="cancellationToken">The caller's token (for example the host's stopping token).</param>
    /// <returns>The work's result.</returns>
    /// <exception cref="OperationTimeoutException">The limit elapsed.</exception>
    public static async Task<TResult> RunAsync<TState, TResult>(
        Func<TState, CancellationToken, Task<TResult>> work,
        TState state,
        DeadlineOptions options,
        TimeProvider timeProvider,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        DeadlineOptionsValidator.ThrowIfInvalid(options);
        cancellationToken.ThrowIfCancellationRequested();

        string name = options.Name ?? TimeoutConstants.DeadlineTag;
        using var deadline = new CancellationTokenSource(options.Limit, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);

        // Retries inside the work see the deadline and never start a delay that would end after it.
        AmbientDeadline.Set(timeProvider, options.Limit);

        Task<TResult> task;
        try
        {
            task = work(state, linked.Token);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            task = Task.FromCanceled<TResult>(linked.Token);
        }

        try
        {
            return await task.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // The work may have finished in the instant the deadline fired: its result stands.
            if (task.IsCompletedSuccessfully)
            {
                return task.Result;
            }

            bool stopped = await WaitForStopAsync(task, options.GracePeriod, timeProvider).ConfigureAwait(false);
            if (!stopped)
            {
                TimeoutLog.DeadlineWorkDidNotStop(logger, name, options.GracePeriod);
                ObserveLater(task);
            }

            cancellationToken.ThrowIfCancellationRequested();
            ResilienceMeter.Instruments<TimeoutTelemetry>(null).RecordTimeout(name, TimeoutConstants.DeadlineTag);
            TimeoutLog.DeadlineExceeded(logger, name, options.Limit);
            throw new OperationTimeoutException(TimeoutKind.Deadline, options.Limit, name, task.Exception?.InnerException);
        }
    }

    private static async Task<bool> WaitForStopAsync(Task work, TimeSpan gracePeriod, TimeProvider timeProvider)
    {
        if (!work.IsCompleted && gracePeriod > TimeSpan.Zero)
        {
            try
            {
                await work.WaitAsync(gracePeriod, timeProvider).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Either the grace period elapsed or the work failed (usually with OperationCanceledException):
                // whether it stopped is decided by its completion below.
            }
        }

        _ = work.Exception;
        return work.IsCompleted;
    }

    private static void ObserveLater(Task work) =>
        work.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
