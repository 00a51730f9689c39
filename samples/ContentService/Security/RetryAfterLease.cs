using System.Threading.RateLimiting;

namespace ContentService.Security;

/// <summary>A lease that says, when refused, how long until a permit can be had (the API's 429 sends it as Retry-After).</summary>
internal sealed class RetryAfterLease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
{
    public override bool IsAcquired => acquired;

    public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        if (retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name)
        {
            metadata = wait;
            return true;
        }

        metadata = null;
        return false;
    }
}
