using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using ContentService.Errors;
using Microsoft.Extensions.Options;
using Resilience.Http;

namespace ContentService.FineTuning;

/// <summary>
/// Runs fine-tuning jobs in this instance: writes the training file into the job's own temporary directory, uploads
/// it to the provider through Resilience.Http, runs the trainer under the job's deadline, and reports the result.
/// Whatever way a job ends (success, trainer failure, the owner's cancel, the deadline, shutdown) the trainer's
/// process tree is gone, the directory is deleted and every handle is closed before the job leaves
/// <see cref="_running"/>. Jobs run where they were created: one interrupted by shutdown ends failed with
/// <see cref="InterruptedErrorId"/> (a rerun trains from the start, so it is the owner's call, not ours).
/// </summary>
internal sealed partial class FineTuningRunner(
    FineTuningRepository jobs, IHttpClientFactory clients, IOptions<FineTuningOptions> options, TimeProvider time, ILogger<FineTuningRunner> logger)
    : IHostedService, IDisposable
{
    public const string ClientName = "fine-tuning";
    public const string TrainerFailedErrorId = "ERR_TRAINER_FAILED";
    public const string InterruptedErrorId = "ERR_INTERRUPTED";

    private readonly ConcurrentDictionary<Guid, RunningJob> _running = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _admission = new();
    private bool _disposed;

    /// <summary>Jobs in this instance whose run has not finished cleaning up.</summary>
    public int Running => _running.Count;

    /// <summary>The trainer's process id while <paramref name="id"/> trains here (for operators' logs and the tests).</summary>
    public int? TrainerPid(Guid id) => _running.TryGetValue(id, out var job) ? job.Pid : null;

    /// <summary>Starts a job created in the database; false when this instance already runs its maximum.</summary>
    public bool TryStart(FineTuningJobResponse job, IReadOnlyList<TrainingExample> examples)
    {
        lock (_admission)
        {
            if (_stopping.IsCancellationRequested || _running.Count >= options.Value.MaxConcurrentJobs)
            {
                return false;
            }

            var run = new RunningJob(job.Id, options.Value.Deadline, time, _stopping.Token);
            _running[job.Id] = run;
            _ = Task.Run(() => RunAsync(run, job, examples));
            return true;
        }
    }

    /// <summary>Whether a new job would be admitted now (checked before it is created, so refused jobs leave no row).</summary>
    public bool HasCapacity => !_stopping.IsCancellationRequested && _running.Count < options.Value.MaxConcurrentJobs;

    /// <summary>Cancels a job running here and waits (bounded) until its tree, files and handles are gone.</summary>
    public async Task CancelAsync(Guid id, CancellationToken ct)
    {
        if (_running.TryGetValue(id, out var job))
        {
            await job.CancelByOwnerAsync();
            await job.Completion.WaitAsync(TimeSpan.FromSeconds(10), time, ct);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Shutdown: every running job is stopped and cleaned up before the host goes.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_admission)
        {
            // The container may dispose this runner before the host stops it (a test host torn down unstarted).
            if (_disposed)
            {
                return;
            }

            _stopping.Cancel();
        }

        await Task.WhenAll(_running.Values.Select(static j => j.Completion)).WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        lock (_admission)
        {
            _disposed = true;
            _stopping.Dispose();
        }
    }

    private async Task RunAsync(RunningJob run, FineTuningJobResponse job, IReadOnlyList<TrainingExample> examples)
    {
        var settings = options.Value;
        var directory = Path.Combine(settings.ResolveWorkDirectory(), job.Id.ToString("N"));
        var ct = run.Token;
        try
        {
            Directory.CreateDirectory(directory);
            var trainingFile = Path.Combine(directory, "training.jsonl");
            await WriteTrainingFileAsync(trainingFile, examples, ct);
            if (!await jobs.AdvanceAsync(job.Id, FineTuningStates.Uploading, 0, null, ct))
            {
                return;
            }

            var fileId = await UploadAsync(job.Id, trainingFile, ct);
            if (!await jobs.AdvanceAsync(job.Id, FineTuningStates.Training, 0, fileId, ct))
            {
                return;
            }

            var result = await TrainerProcess.RunAsync(
                settings.ResolveTrainer(), trainingFile, job.Epochs, settings.EpochDuration,
                pid => run.Pid = pid,
                async (percent, ct) =>
                {
                    if (!await jobs.AdvanceAsync(job.Id, FineTuningStates.Training, percent, null, ct))
                    {
                        // Cancelled through another instance: this one stops the trainer.
                        await run.CancelByOwnerAsync();
                    }
                },
                ct);
            if (result.ExitCode != 0 || result.Model is null)
            {
                LogTrainerFailed(job.Id, result.ExitCode, result.ErrorTail);
                await jobs.FinishAsync(job.Id, FineTuningStates.Failed, null, TrainerFailedErrorId,
                    $"The trainer failed (exit code {result.ExitCode}).", CancellationToken.None);
                return;
            }

            await ReportAsync(job.Id, fileId, result.Model, ct);
            await jobs.FinishAsync(job.Id, FineTuningStates.Succeeded, result.Model, null, null, CancellationToken.None);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Which of the three stopped it decides how the job ends; the owner's cancel is already recorded.
            var (errorId, message) = run.Reason switch
            {
                StopReason.Owner => (ServiceErrorIds.Cancelled, "The job was cancelled."),
                StopReason.Deadline => (ServiceErrorIds.Timeout, $"The job ran longer than its {settings.Deadline} limit and was stopped."),
                _ => (InterruptedErrorId, "The service stopped while the job ran; create it again."),
            };
            await FinishQuietlyAsync(job.Id, run.Reason == StopReason.Owner ? FineTuningStates.Cancelled : FineTuningStates.Failed, errorId, message);
        }
        catch (UpstreamUnavailableFineTuningException e)
        {
            LogUploadFailed(job.Id, e.InnerException);
            await FinishQuietlyAsync(job.Id, FineTuningStates.Failed, ServiceErrorIds.UpstreamUnavailable, e.Message);
        }
        catch (Exception e)
        {
            LogJobFailed(job.Id, e);
            await FinishQuietlyAsync(job.Id, FineTuningStates.Failed, ServiceErrorIds.Internal, "The job failed; see the service log.");
        }
        finally
        {
            DeleteDirectory(directory);
            _running.TryRemove(job.Id, out _);
            run.Dispose();
            run.Completed();
        }
    }

    private async Task FinishQuietlyAsync(Guid id, string status, string errorId, string message)
    {
        try
        {
            await jobs.FinishAsync(id, status, null, errorId, message, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The database is down past its retries: the job stays active in the table, its process is gone.
            LogFinishFailed(id, e);
        }
    }

    private static async Task WriteTrainingFileAsync(string path, IReadOnlyList<TrainingExample> examples, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 4096, useAsync: true);
        await using var writer = new StreamWriter(file);
        foreach (var example in examples)
        {
            await writer.WriteLineAsync(JsonSerializer.Serialize(new { prompt = example.Prompt, completion = example.Completion }).AsMemory(), ct);
        }
    }

    private async Task<string> UploadAsync(Guid id, string trainingFile, CancellationToken ct)
    {
        var client = clients.CreateClient(ClientName);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("fine-tuning/files", UriKind.Relative))
            {
                Content = new StreamContent(File.OpenRead(trainingFile)),
            };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-ndjson");

            // The provider keeps one file per key, so the handler may retry the upload without storing it twice.
            request.Headers.Add("Idempotency-Key", "ft-" + id.ToString("N"));
            using var response = await client.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new UpstreamUnavailableFineTuningException($"The provider refused the training data ({(int)response.StatusCode}); try again later.", null);
            }

            var uploaded = await response.Content.ReadFromJsonAsync<UploadedFile>(ct);
            return uploaded?.Id ?? throw new InvalidDataException("The provider answered the upload without a file id.");
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or HttpResilienceException or InvalidDataException or JsonException or TaskCanceledException)
        {
            throw new UpstreamUnavailableFineTuningException("The provider could not take the training data; try again later.", e);
        }
    }

    private async Task ReportAsync(Guid id, string fileId, string model, CancellationToken ct)
    {
        var client = clients.CreateClient(ClientName);
        try
        {
            // PUT of the whole state: idempotent, so the handler retries it freely.
            using var response = await client.PutAsJsonAsync(new Uri($"fine-tuning/jobs/{id:N}", UriKind.Relative),
                new { status = FineTuningStates.Succeeded, trainingFileId = fileId, model }, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new UpstreamUnavailableFineTuningException($"The provider did not take the trained model ({(int)response.StatusCode}); try again later.", null);
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or HttpResilienceException or TaskCanceledException)
        {
            throw new UpstreamUnavailableFineTuningException("The provider did not take the trained model; try again later.", e);
        }
    }

    private void DeleteDirectory(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCleanupFailed(directory, e);
        }
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Warning, Message = "Fine-tuning job {JobId}: the trainer exited with code {ExitCode}: {ErrorTail}")]
    private partial void LogTrainerFailed(Guid jobId, int exitCode, string errorTail);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Warning, Message = "Fine-tuning job {JobId}: the provider failed")]
    private partial void LogUploadFailed(Guid jobId, Exception? exception);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Error, Message = "Fine-tuning job {JobId} failed")]
    private partial void LogJobFailed(Guid jobId, Exception exception);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Error, Message = "Fine-tuning job {JobId}: its ending could not be recorded")]
    private partial void LogFinishFailed(Guid jobId, Exception exception);

    [LoggerMessage(EventId = 9105, Level = LogLevel.Error, Message = "Fine-tuning: could not delete {Directory}")]
    private partial void LogCleanupFailed(string directory, Exception exception);

    private sealed record UploadedFile(string Id);

    private enum StopReason
    {
        None,
        Owner,
        Deadline,
        Shutdown,
    }

    /// <summary>One job's run: the owner's cancel, the deadline and shutdown as one token, and which of them fired first.</summary>
    private sealed class RunningJob : IDisposable
    {
        private readonly CancellationTokenSource _owner = new();
        private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _deadline;
        private readonly CancellationTokenSource _linked;
        private readonly CancellationTokenRegistration _onDeadline;
        private readonly CancellationTokenRegistration _onShutdown;
        private int _reason;
        private int _pid;

        public RunningJob(Guid id, TimeSpan deadline, TimeProvider time, CancellationToken stopping)
        {
            Id = id;
            _deadline = new CancellationTokenSource(deadline, time);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(_owner.Token, _deadline.Token, stopping);
            _onDeadline = _deadline.Token.Register(static s => ((RunningJob)s!).SetReason(StopReason.Deadline), this);
            _onShutdown = stopping.Register(static s => ((RunningJob)s!).SetReason(StopReason.Shutdown), this);
            Token = _linked.Token;
        }

        public Guid Id { get; }

        public CancellationToken Token { get; }

        /// <summary>Done once the run has cleaned up; set by the run itself, so a cancel that finds the job never misses it.</summary>
        public Task Completion => _completed.Task;

        public int? Pid
        {
            get => Volatile.Read(ref _pid) is var pid and not 0 ? pid : null;
            set => Volatile.Write(ref _pid, value ?? 0);
        }

        public StopReason Reason => (StopReason)Volatile.Read(ref _reason);

        public async Task CancelByOwnerAsync()
        {
            SetReason(StopReason.Owner);
            try
            {
                await _owner.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The run ended and cleaned up between the look-up and the cancel: nothing is left to stop.
            }
        }

        public void Completed() => _completed.TrySetResult();

        public void Dispose()
        {
            _onDeadline.Dispose();
            _onShutdown.Dispose();
            _linked.Dispose();
            _deadline.Dispose();
            _owner.Dispose();
        }

        // The first reason wins: a cancel just before the deadline is a cancel.
        private void SetReason(StopReason reason) => Interlocked.CompareExchange(ref _reason, (int)reason, (int)StopReason.None);
    }
}

/// <summary>The provider could not take the upload or the result; the job ends failed with ERR_UPSTREAM_UNAVAILABLE.</summary>
internal sealed class UpstreamUnavailableFineTuningException(string message, Exception? cause) : Exception(message, cause);
