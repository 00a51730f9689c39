using Microsoft.Extensions.Logging;

namespace Resilience.Npgsql;

/// <summary>The adapter's log events (its metric is <see cref="NpgsqlMetrics"/>): each decision it makes on its own is observable.</summary>
internal static partial class NpgsqlLog
{
    [LoggerMessage(EventId = NpgsqlResilienceEventIds.UnknownOutcome, Level = LogLevel.Warning,
        Message = "Data source '{DataSource}': the connection failed while a transaction was committing; the write may or may not have taken effect and was not retried")]
    public static partial void UnknownOutcome(ILogger logger, Exception exception, string dataSource);

    [LoggerMessage(EventId = NpgsqlResilienceEventIds.Configured, Level = LogLevel.Information,
        Message = "Database '{DataSource}' through Resilience.Npgsql: {Retry}; {Breaker}")]
    public static partial void Configured(ILogger logger, string dataSource, string retry, string breaker);
}
