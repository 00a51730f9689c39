namespace ContentService.Usage;

/// <summary>The CMS account's usage as the CMS answers it.</summary>
internal sealed record CmsUsage(string Plan, int Images, long StorageBytes, long UsageCalls, double CreditsUsed, double CreditsLimit, DateTimeOffset UpdatedAt);

/// <summary>
/// The body of <c>GET /api/cms/usage</c>: the usage, when this service fetched it, how old it is, and whether it is
/// the last good answer served because the CMS is failing (<see cref="Stale"/>).
/// </summary>
internal sealed record CmsUsageResponse(
    string Plan, int Images, long StorageBytes, long UsageCalls, double CreditsUsed, double CreditsLimit, double? CreditsUsedPercent,
    DateTimeOffset UpdatedAt, double AgeSeconds, bool Stale, string? StaleReason);
