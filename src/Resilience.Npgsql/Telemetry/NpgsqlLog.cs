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

    [LoggerMessage(EventId = NpgsqlResilienceEventIds.DataSourceLimits, Level = LogLevel.Information,
        Message = "Data source '{DataSource}': every connection of the registered NpgsqlDataSource starts with statement_timeout {StatementTimeout} and lock_timeout {LockTimeout}, also for commands not run through ResilientDataSource; set ApplyQueryTimeoutsToDataSource to false to opt out (calls through the adapter then set their limits per transaction)")]
    public static partial void DataSourceLimits(ILogger logger, string dataSource, TimeSpan statementTimeout, TimeSpan lockTimeout);
}
