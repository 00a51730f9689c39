using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.Npgsql;

/// <summary>The adapter's metrics and log events: each decision it makes on its own is observable.</summary>
internal static partial class NpgsqlLog
{
    // Same meter name as Core's: listeners subscribed to "Resilience" see the adapter's instruments too.
    private static readonly Meter Meter = new(ResilienceTelemetry.MeterName);

    private static readonly Counter<long> UnknownOutcomes = Meter.CreateCounter<long>(
        NpgsqlResilienceEventIds.UnknownOutcomesInstrument, unit: "{write}", description: "Writes whose commit acknowledgement was lost: they may or may not have taken effect.");

    public static void UnknownOutcome(ILogger logger, string dataSource, DatabaseException exception)
    {
        if (UnknownOutcomes.Enabled)
        {
            UnknownOutcomes.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, dataSource));
        }

        LogUnknownOutcome(logger, exception, dataSource);
    }

    [LoggerMessage(EventId = NpgsqlResilienceEventIds.UnknownOutcome, Level = LogLevel.Warning,
        Message = "Data source '{DataSource}': the connection failed while a transaction was committing; the write may or may not have taken effect and was not retried")]
    private static partial void LogUnknownOutcome(ILogger logger, Exception exception, string dataSource);
}
