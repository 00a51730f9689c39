namespace ContentService.Content;

/// <summary>A published article as the list shows it (without the body).</summary>
internal sealed record ContentSummary(Guid Id, Guid TaskId, string Title, string Provider, int? QualityScore, bool Refined, string? ImageId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A published article.</summary>
internal sealed record ContentResponse(Guid Id, Guid TaskId, string Title, string Body, string Provider, int? QualityScore, bool Refined, string? ImageId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

internal sealed record ContentPage(IReadOnlyList<ContentSummary> Items, int Page, int PageSize, long Total);

/// <summary>The answer to a delete: whether the image is already gone from the CMS or its deletion is queued.</summary>
internal sealed record ContentDeleted(Guid Id, string? ImageId, string ImageDeletion);
