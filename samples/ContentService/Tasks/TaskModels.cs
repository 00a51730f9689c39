namespace ContentService.Tasks;

/// <summary>The body of <c>POST /api/tasks</c>; every field is checked by <see cref="TaskRequestValidator"/>.</summary>
internal sealed record CreateTaskRequest(string? Topic, string? Style, int? TargetLength, string? Complexity);

/// <summary>A validated request, normalized (defaults applied, whitespace trimmed).</summary>
internal sealed record TaskSpec(string Topic, string Style, int TargetLength, string Complexity);

/// <summary>A task as the API shows it.</summary>
internal sealed record TaskResponse(
    Guid Id,
    string Status,
    string Stage,
    int Progress,
    string Topic,
    string Style,
    int TargetLength,
    string Complexity,
    int Attempts,
    string? ErrorId,
    string? Error,
    Guid? ContentId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt);

/// <summary>One page of tasks, newest first.</summary>
internal sealed record TaskPage(IReadOnlyList<TaskResponse> Items, int Page, int PageSize, long Total);

/// <summary>The task states and the stages of the content pipeline.</summary>
internal static class TaskStates
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly string[] All = [Pending, Running, Completed, Failed, Cancelled];

    public static bool IsFinal(string status) => status is Completed or Failed or Cancelled;
}

/// <summary>Pipeline stages recorded on the task, with the progress each one starts at.</summary>
internal static class TaskStages
{
    public const string Queued = "queued";
    public const string Generate = "generate";
    public const string Critique = "critique";
    public const string Refine = "refine";
    public const string Image = "image";
    public const string Publish = "publish";
    public const string Done = "done";
}
