namespace ContentService.FineTuning;

/// <summary>One training example: a prompt and the completion the model should learn.</summary>
internal sealed record TrainingExample(string? Prompt, string? Completion);

/// <summary>The body of <c>POST /api/fine-tuning/jobs</c>.</summary>
internal sealed record CreateFineTuningJobRequest(string? BaseModel, int? Epochs, List<TrainingExample>? Examples);

/// <summary>A fine-tuning job as the API shows it.</summary>
internal sealed record FineTuningJobResponse(
    Guid Id,
    string Status,
    string BaseModel,
    int Epochs,
    int Examples,
    int Progress,
    string? TrainingFileId,
    string? TrainedModel,
    string? ErrorId,
    string? ErrorMessage,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? CompletedAt);

/// <summary>A job's states; the last three are final.</summary>
internal static class FineTuningStates
{
    public const string Pending = "pending";
    public const string Uploading = "uploading";
    public const string Training = "training";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinal(string status) => status is Succeeded or Failed or Cancelled;
}
