using Microsoft.Extensions.Options;
using Resilience.Npgsql;

namespace ContentService.Content;

/// <summary>Content options, bound from <c>Content</c>.</summary>
internal sealed class ContentOptions
{
    public const string Section = "Content";

    /// <summary>How often queued CMS deletes are retried.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Retries the queued CMS deletes (<see cref="CmsDeletionQueue"/>) until the CMS takes them.</summary>
internal sealed partial class CmsDeletionSweeper(CmsDeletionQueue queue, IOptions<ContentOptions> options, TimeProvider time, ILogger<CmsDeletionSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await SweepAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down; what is still queued is retried after the next start.
        }
    }

    internal async Task<int> SweepAsync(CancellationToken ct)
    {
        var deleted = 0;
        try
        {
            foreach (var imageId in await queue.DueAsync(50, ct))
            {
                if (await queue.TryDeleteAsync(imageId, ct))
                {
                    deleted++;
                }
            }
        }
        catch (DatabaseException e)
        {
            LogSweepFailed(logger, e, e.ErrorId);
        }

        return deleted;
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "Retrying queued CMS deletes failed with {ErrorId}; next round at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, string errorId);
}
