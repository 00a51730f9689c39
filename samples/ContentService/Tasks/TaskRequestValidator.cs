using System.Globalization;
using ContentService.Errors;

namespace ContentService.Tasks;

/// <summary>Checks task requests and list queries; the first broken rule is answered 422 ERR_VALIDATION naming the field.</summary>
internal static class TaskRequestValidator
{
    public const int MaxPageSize = 100;
    public const int DefaultPageSize = 20;
    internal static readonly string[] Styles = ["neutral", "formal", "casual", "technical"];
    internal static readonly string[] Complexities = ["low", "medium", "high"];

    public static TaskSpec Validate(CreateTaskRequest? request)
    {
        if (request is null)
        {
            throw ApiException.Validation("body", "A JSON body with at least \"topic\" is required.");
        }

        var topic = request.Topic?.Trim();
        if (string.IsNullOrEmpty(topic) || topic.Length is < 3 or > 500)
        {
            throw ApiException.Validation("topic", "topic is required: 3 to 500 characters.");
        }

        // PostgreSQL text cannot hold NUL (it failed there, answered without a field); a topic is one line of text.
        if (topic.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0 || topic.Contains('\u007f', StringComparison.Ordinal))
        {
            throw ApiException.Validation("topic", "topic must not contain control characters.");
        }

        var style = (request.Style ?? "neutral").Trim().ToLowerInvariant();
        if (Array.IndexOf(Styles, style) < 0)
        {
            throw ApiException.Validation("style", $"style must be one of: {string.Join(", ", Styles)}.");
        }

        var length = request.TargetLength ?? 300;
        if (length is < 50 or > 5000)
        {
            throw ApiException.Validation("targetLength", "targetLength must be between 50 and 5000 words.");
        }

        var complexity = (request.Complexity ?? "low").Trim().ToLowerInvariant();
        if (Array.IndexOf(Complexities, complexity) < 0)
        {
            throw ApiException.Validation("complexity", $"complexity must be one of: {string.Join(", ", Complexities)}.");
        }

        return new TaskSpec(topic, style, length, complexity);
    }

    public static Guid ParseId(string? value, string field = "id") =>
        Guid.TryParse(value, out var id) ? id : throw ApiException.Validation(field, $"{field} must be a UUID.");

    public static (string? Status, int Page, int PageSize) ParseListQuery(string? status, string? page, string? pageSize)
    {
        if (status is not null && Array.IndexOf(TaskStates.All, status) < 0)
        {
            throw ApiException.Validation("status", $"status must be one of: {string.Join(", ", TaskStates.All)}.");
        }

        return (status, ParsePage(page), ParsePageSize(pageSize));
    }

    public static int ParsePage(string? page) => page is null ? 1
        : int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 100_000 ? p
        : throw ApiException.Validation("page", "page must be a whole number from 1 to 100000.");

    public static int ParsePageSize(string? pageSize) => pageSize is null ? DefaultPageSize
        : int.TryParse(pageSize, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s is >= 1 and <= MaxPageSize ? s
        : throw ApiException.Validation("pageSize", $"pageSize must be a whole number from 1 to {MaxPageSize}.");

    public static string? ParseIdempotencyKey(Microsoft.Extensions.Primitives.StringValues values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        // Two keys on one request: which one applies is a guess, and a wrong guess creates a duplicate task.
        if (values.Count > 1)
        {
            throw ApiException.Validation("Idempotency-Key", "Send one Idempotency-Key header, not several.");
        }

        var header = values[0]!;
        return header.Length is >= 1 and <= 200 && header.All(static c => c is > ' ' and <= '~')
            ? header
            : throw ApiException.Validation("Idempotency-Key", "Idempotency-Key must be 1 to 200 visible ASCII characters.");
    }
}
