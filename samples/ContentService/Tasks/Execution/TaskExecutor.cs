using ContentService.Errors;
using ContentService.Providers;
using Microsoft.Extensions.Options;
using Resilience.Failures;
using Resilience.Npgsql;
using Resilience.Timeouts;

namespace ContentService.Tasks.Execution;

/// <summary>
/// Runs tasks with several workers. A worker claims a task (<c>FOR UPDATE SKIP LOCKED</c> + a lease it renews), runs
/// the content pipeline under the task's deadline, and ends the run one of five ways: completed; failed with
/// ERR_TIMEOUT at the deadline; back to pending after a failed attempt (failed with the last error ID once
/// <see cref="ExecutorOptions.MaxAttempts"/> is reached); back to pending, uncounted, on shutdown or while every provider
/// is down (policy Wait); or left alone when the client cancelled it.
/// </summary>
internal sealed partial class TaskExecutor(
    TaskStore store,
    ContentPipeline pipeline,
    TaskSignal signal,
    RunningTaskRegistry running,
    IOptions<ExecutorOptions> options,
    IOptions<ProvidersOptions> providers,
    TimeProvider time,
    ILogger<TaskExecutor> logger) : BackgroundService
{
    private readonly ExecutorOptions _options = options.Value;

    /// <summary>This instance's lease owner name.</summary>
    public string InstanceId { get; } = options.Value.InstanceId
        ?? $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, InstanceId, _options.Workers, _options.Deadline.Limit, _options.LeaseDuration, _options.MaxAttempts);
        var workers = new Task[_options.Workers];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = WorkAsync(stoppingToken);
        }

        return Task.WhenAll(workers);
    }

    private async Task WorkAsync(CancellationToken stopping)
    {
        // Off the start-up path: the host finishes starting while workers begin polling.
        await Task.Yield();
        while (!stopping.IsCancellationRequested)
        {
            ClaimedTask? task;
            try
            {
                task = await store.ClaimAsync(InstanceId, _options.LeaseDuration, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (DatabaseException e)
            {
                LogClaimFailed(logger, e, e.ErrorId);
                task = null;
            }

            if (task is null)
            {
                try
                {
                    await signal.WaitAsync(_options.PollInterval, time, stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            await RunAsync(task, stopping);
        }
    }

    internal async Task RunAsync(ClaimedTask task, CancellationToken stopping)
    {
        if (task.Task.Attempts > _options.MaxAttempts)
        {
            // Picked up again after its lease expired once too often (its instances kept dying mid-run).
            await EndAsync(task, static (s, t, ct) => s.FailAsync(t, t.Task.ErrorId ?? ServiceErrorIds.Timeout,
                "The task was interrupted too many times (its lease expired).", ct));
            return;
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        using var stopRenewal = new CancellationTokenSource();
        running.Add(task.Id, cancel);
        var renewal = RenewLeaseAsync(task, cancel, stopRenewal.Token);
        try
        {
            await Deadline.RunAsync(static (s, ct) => s.pipeline.RunAsync(s.task, ct), (pipeline, task), _options.Deadline, time, logger, cancel.Token);
            LogCompleted(logger, task.Id, task.Task.Attempts);
        }
        catch (OperationTimeoutException e) when (e.Kind == TimeoutKind.Deadline)
        {
            // The task's own deadline (a timeout inside a step is an ordinary failed attempt, handled below).
            LogDeadline(logger, task.Id, _options.Deadline.Limit);
            await EndAsync(task, static (s, t, ct) => s.FailAsync(t, ServiceErrorIds.Timeout, "The task did not finish within its deadline; its work was cancelled.", ct));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutdown: another instance (or this one, restarted) runs the task again; the interrupted attempt is not counted.
            LogReleased(logger, task.Id);
            await EndAsync(task, static (s, t, ct) => s.ReleaseAsync(t, TimeSpan.Zero, t.Task.ErrorId, t.Task.Error, ct));
        }
        catch (OperationCanceledException)
        {
            // Cancelled by the client or taken over after our lease expired: the task's state is no longer ours to write.
            LogAbandoned(logger, task.Id);
        }
        catch (UpstreamUnavailableException e) when (e.Dependency == UpstreamUnavailableException.Llm && providers.Value.WhenAllDown == AllProvidersDownPolicy.Wait)
        {
            var delay = e.RetryAfter ?? providers.Value.AllDownRetryAfter;
            LogWaiting(logger, task.Id, delay);
            await EndAsync(task, (ErrorIds.UpstreamUnavailable, e.Message, delay), static (s, t, a, ct) => s.ReleaseAsync(t, a.delay, a.UpstreamUnavailable, a.Message, ct));
        }
        catch (UpstreamUnavailableException e) when (e.Dependency == UpstreamUnavailableException.Llm)
        {
            // Policy Fail: every provider able to serve the task is down, so the task fails now with a clear error.
            LogFailed(logger, e, task.Id, ErrorIds.UpstreamUnavailable, task.Task.Attempts);
            await EndAsync(task, e.Message, static (s, t, message, ct) => s.FailAsync(t, ErrorIds.UpstreamUnavailable, message, ct));
        }
        catch (Exception e)
        {
            var (errorId, message) = Describe(e);
            LogFailed(logger, e, task.Id, errorId, task.Task.Attempts);
            if (task.Task.Attempts >= _options.MaxAttempts || e is ProviderRejectedException)
            {
                await EndAsync(task, (errorId, message), static (s, t, a, ct) => s.FailAsync(t, a.errorId, a.message, ct));
            }
            else
            {
                await EndAsync(task, (errorId, message, _options.RetryDelay), static (s, t, a, ct) => s.RetryLaterAsync(t, a.errorId, a.message, a.RetryDelay, ct));
            }
        }
        finally
        {
            await stopRenewal.CancelAsync();
            await renewal;
            running.Remove(task.Id);
        }
    }

    /// <summary>The error ID and a public message for a failed attempt (the log has the exception).</summary>
    internal static (string ErrorId, string Message) Describe(Exception e) => e switch
    {
        DatabaseException db => (db.ErrorId, "The database failed during the task: " + db.Message),
        UpstreamUnavailableException upstream => (ErrorIds.UpstreamUnavailable, upstream.Message),
        ProviderRejectedException rejected => (ErrorIds.Internal, rejected.Message),
        OperationTimeoutException => (ErrorIds.Timeout, "A step of the task ran out of time."),
        _ => (ErrorIds.Internal, "The task failed unexpectedly."),
    };

    private async Task RenewLeaseAsync(ClaimedTask task, CancellationTokenSource work, CancellationToken stop)
    {
        var interval = _options.LeaseDuration / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stop);
                if (!await store.RenewAsync(task, _options.LeaseDuration, stop))
                {
                    // Cancelled by a client of any instance, or our lease expired and another instance has it.
                    await work.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (DatabaseException e)
            {
                // Keep trying: if the lease expires meanwhile, the next renewal finds the task gone and stops the work.
                LogRenewFailed(logger, e, task.Id, e.ErrorId);
            }
        }
    }

    // The end state is written even during shutdown (hence no token), bounded by the database's own timeouts.
    private Task EndAsync(ClaimedTask task, Func<TaskStore, ClaimedTask, CancellationToken, ValueTask> write) =>
        EndAsync(task, write, static (s, t, w, ct) => w(s, t, ct));

    private async Task EndAsync<TArg>(ClaimedTask task, TArg arg, Func<TaskStore, ClaimedTask, TArg, CancellationToken, ValueTask> write)
    {
        try
        {
            await write(store, task, arg, CancellationToken.None);
        }
        catch (DatabaseException e)
        {
            // Not lost: the lease expires and the task runs again elsewhere.
            LogEndFailed(logger, e, task.Id, e.ErrorId);
        }
    }

    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Task executor {InstanceId}: {Workers} workers, deadline {Deadline}, lease {Lease}, at most {MaxAttempts} attempts")]
    private static partial void LogStarted(ILogger logger, string instanceId, int workers, TimeSpan deadline, TimeSpan lease, int maxAttempts);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Task {TaskId} completed (attempt {Attempt})")]
    private static partial void LogCompleted(ILogger logger, Guid taskId, int attempt);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "Task {TaskId} failed its attempt with {ErrorId} (attempt {Attempt})")]
    private static partial void LogFailed(ILogger logger, Exception exception, Guid taskId, string errorId, int attempt);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Warning, Message = "Task {TaskId} exceeded its deadline of {Deadline}: failed with ERR_TIMEOUT")]
    private static partial void LogDeadline(ILogger logger, Guid taskId, TimeSpan deadline);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Information, Message = "Task {TaskId} returned to pending: shutting down")]
    private static partial void LogReleased(ILogger logger, Guid taskId);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Information, Message = "Task {TaskId} stopped: cancelled by a client or taken over")]
    private static partial void LogAbandoned(ILogger logger, Guid taskId);

    [LoggerMessage(EventId = 1506, Level = LogLevel.Warning, Message = "Task {TaskId} waits {Delay} for a provider: every provider is down")]
    private static partial void LogWaiting(ILogger logger, Guid taskId, TimeSpan delay);

    [LoggerMessage(EventId = 1507, Level = LogLevel.Warning, Message = "Claiming a task failed with {ErrorId}; retrying at the next poll")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception, string errorId);

    [LoggerMessage(EventId = 1508, Level = LogLevel.Warning, Message = "Renewing the lease of task {TaskId} failed with {ErrorId}")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, Guid taskId, string errorId);

    [LoggerMessage(EventId = 1509, Level = LogLevel.Error, Message = "Recording the end of task {TaskId} failed with {ErrorId}; it runs again once its lease expires")]
    private static partial void LogEndFailed(ILogger logger, Exception exception, Guid taskId, string errorId);
}
