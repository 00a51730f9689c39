using System.Globalization;
using System.Text;
using ContentService.Content;
using ContentService.Providers;
using Microsoft.Extensions.Options;

namespace ContentService.Tasks.Execution;

/// <summary>
/// One task's work: generate (LLM) → critique (second LLM call; below the threshold, one refine round) → image (CMS
/// upload) → publish. Stage and progress are recorded as it goes; every paid call's tokens and cost are stored.
/// </summary>
internal sealed partial class ContentPipeline(
    ModelRouter router, CmsClient cms, CmsDeletionQueue deletions, TaskStore store, IOptions<ProvidersOptions> providers, ILogger<ContentPipeline> logger)
{
    public async Task RunAsync(ClaimedTask claimed, CancellationToken ct)
    {
        var task = claimed.Task;
        // Stages finished on an earlier attempt (or by an instance that died) are reused, never called or paid twice.
        var done = await store.StageResultsAsync(task.Id, ct);
        await store.StageAsync(claimed, TaskStages.Generate, 10, ct);
        var prompt = $"Write a {task.Style} article about {task.Topic}";
        var draft = done.GetValueOrDefault(TaskStages.Generate)
            ?? await RecordAsync(claimed, TaskStages.Generate, await router.GenerateAsync(Call(task, TaskStages.Generate), prompt, "draft", task.TargetLength, ct), ct);

        await store.StageAsync(claimed, TaskStages.Critique, 40, ct);
        var critique = done.GetValueOrDefault(TaskStages.Critique)
            ?? await RecordAsync(claimed, TaskStages.Critique, await router.CritiqueAsync(Call(task, TaskStages.Critique), draft.Text, ct), ct);

        var body = draft.Text;
        var provider = draft.Provider;
        var refined = false;
        if (critique.Score < providers.Value.QualityThreshold)
        {
            await store.StageAsync(claimed, TaskStages.Refine, 55, ct);
            var better = done.GetValueOrDefault(TaskStages.Refine)
                ?? await RecordAsync(claimed, TaskStages.Refine, await router.GenerateAsync(Call(task, TaskStages.Refine), draft.Text, "refine", task.TargetLength, ct), ct);
            body = better.Text;
            provider = better.Provider;
            refined = true;
        }

        await store.StageAsync(claimed, TaskStages.Image, 70, ct);

        // The key is the task's: a retried or repeated upload for this task stores one image in the CMS.
        var imageId = await cms.UploadAsync(TitleCard(task.Topic), "image/svg+xml", $"task-{task.Id:N}", ct);

        await store.StageAsync(claimed, TaskStages.Publish, 90, ct);
        var content = new PublishedContent(Guid.CreateVersion7(), task.Topic, body, provider, critique.Score!.Value, refined, imageId);
        if (!await store.PublishAsync(claimed, content, ct))
        {
            // Cancelled (or taken over) between the upload and the publish: the image must not stay behind unreferenced.
            await DeleteOrphanAsync(imageId, task.Id);
            throw new OperationCanceledException("The task was cancelled or taken over before it was published.");
        }
    }

    private async Task<LlmResult> RecordAsync(ClaimedTask claimed, string stage, LlmResult result, CancellationToken ct)
    {
        await store.RecordStageAsync(claimed, stage, result, ct);
        return result;
    }

    private async Task DeleteOrphanAsync(string imageId, Guid taskId)
    {
        try
        {
            await deletions.EnqueueAndTryAsync(imageId, "task cancelled", CancellationToken.None);
        }
        catch (Exception e) when (e is Resilience.Npgsql.DatabaseException)
        {
            LogOrphan(logger, e, imageId, taskId);
        }
    }

    private static LlmCall Call(TaskResponse task, string stage) => new(task.Id, stage, task.Attempts, task.Complexity);

    /// <summary>A small deterministic SVG title card: the "image" uploaded for each article.</summary>
    internal static byte[] TitleCard(string topic)
    {
        var title = System.Security.SecurityElement.Escape(topic);
        var hue = topic.Aggregate(0, static (h, c) => ((h * 31) + c) % 360);
        return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"""<svg xmlns="http://www.w3.org/2000/svg" width="640" height="320"><rect width="640" height="320" fill="hsl({hue},60%,35%)"/><text x="32" y="170" font-size="32" fill="white">{title}</text></svg>"""));
    }

    [LoggerMessage(EventId = 1400, Level = LogLevel.Error, Message = "Image {ImageId} of task {TaskId} could not be queued for deletion from the CMS after the task was cancelled; delete it by hand")]
    private static partial void LogOrphan(ILogger logger, Exception exception, string imageId, Guid taskId);
}
