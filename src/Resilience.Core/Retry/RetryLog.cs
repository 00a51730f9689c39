using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.Retry;

/// <summary>Source-generated log events of retry (IDs 1200–1299).</summary>
internal static partial class RetryLog
{
    // Debug and without the exception: a retry is routine, and a stack trace per retry floods the log in an outage. The
    // events that end the call (exhausted, budget, deadline) carry the exception at Warning.
    [LoggerMessage(EventId = ResilienceEventIds.RetryScheduled, EventName = "RetryScheduled", Level = LogLevel.Debug,
        Message = "Retry {Attempt} of '{Name}' in {DelayMs} ms after {Reason}: {Error}")]
    public static partial void RetryScheduled(ILogger logger, string name, int attempt, double delayMs, string reason, string? error);

    [LoggerMessage(EventId = ResilienceEventIds.RetriesExhausted, EventName = "RetriesExhausted", Level = LogLevel.Warning,
        Message = "'{Name}' failed after {Retries} retries ({Reason})")]
    public static partial void RetriesExhausted(ILogger logger, string name, int retries, string reason, Exception? exception);

    [LoggerMessage(EventId = ResilienceEventIds.RetryBudgetExhausted, EventName = "RetryBudgetExhausted", Level = LogLevel.Warning,
        Message = "Retry budget of '{Name}' is empty: the failure ({Reason}) surfaces without retry {Attempt}")]
    public static partial void RetryBudgetExhausted(ILogger logger, string name, int attempt, string reason, Exception? exception);

    [LoggerMessage(EventId = ResilienceEventIds.RetriesStoppedByDeadline, EventName = "RetriesStoppedByDeadline", Level = LogLevel.Warning,
        Message = "'{Name}' stopped before retry {Attempt}: its {DelayMs} ms delay would end past the deadline ({TimeLeftMs} ms left); the last failure ({Reason}) surfaces")]
    public static partial void RetriesStoppedByDeadline(ILogger logger, string name, int attempt, double delayMs, double timeLeftMs, string reason, Exception? exception);

    [LoggerMessage(EventId = ResilienceEventIds.RetryAfterAdjusted, EventName = "RetryAfterAdjusted", Level = LogLevel.Information,
        Message = "Retry {Attempt} of '{Name}': Retry-After hint of {HintMs} ms not used as is ({Adjustment}); waiting {DelayMs} ms")]
    public static partial void RetryAfterAdjusted(ILogger logger, string name, int attempt, double hintMs, double delayMs, string adjustment);
}
