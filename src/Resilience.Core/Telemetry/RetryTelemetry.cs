using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Resilience.Telemetry;

/// <summary>Metrics and log events of retries, timeouts and the rate limiter.</summary>
internal static partial class RetryTelemetry
{
    /// <summary>Tag: the retry number (1 for the first retry).</summary>
    public const string AttemptTag = "resilience.attempt";

    /// <summary>Tag: how a call through a retry strategy ended.</summary>
    public const string RetryResultTag = "resilience.retry.result";

    public const string FirstTrySuccess = "first_try_success";
    public const string RetriedSuccess = "retried_success";
    public const string Exhausted = "exhausted";
    public const string NotRetried = "not_retried";
    public const string BudgetRejected = "budget_rejected";
    public const string DeadlineReached = "deadline_reached";

    /// <summary>How a Retry-After hint was adjusted: shorter than the backoff (zero and negative included), or longer than the maximum delay.</summary>
    public const string HintBelowBackoff = "below-backoff";
    public const string HintCapped = "above-max-delay";

    public static readonly Counter<long> Retries = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.retry.attempts", "{retry}", "Retries performed, by retry number and reason.");

    public static readonly Histogram<double> RetryDelay = ResilienceTelemetry.Meter.CreateHistogram<double>(
        "resilience.retry.delay", "ms", "Delay before each retry.");

    public static readonly Counter<long> BudgetExhausted = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.retry.budget_exhausted", "{retry}", "Retries refused because the retry budget was empty.");

    public static readonly Counter<long> Calls = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.retry.calls", "{call}", "Calls through a retry strategy, by how they ended.");

    public static readonly Counter<long> Timeouts = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.timeout.timeouts", "{timeout}", "Timeouts that fired, by kind (attempt, total, deadline).");

    public static readonly Counter<long> RateLimiterRejections = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.rate_limiter.rejections", "{call}", "Calls rejected by a rate limiter.");

    public static void RecordCall(string name, string result)
    {
        if (Calls.Enabled)
        {
            Calls.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name), new KeyValuePair<string, object?>(RetryResultTag, result));
        }
    }

    public static void RecordRetry(string name, int attempt, string reason, TimeSpan delay)
    {
        if (Retries.Enabled)
        {
            var tags = new TagList
            {
                { ResilienceTelemetry.NameTag, name },
                { AttemptTag, attempt },
                { ResilienceTelemetry.ReasonTag, reason },
            };
            Retries.Add(1, tags);
        }

        if (RetryDelay.Enabled)
        {
            RetryDelay.Record(delay.TotalMilliseconds, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }

    public static void RecordBudgetExhausted(string name)
    {
        if (BudgetExhausted.Enabled)
        {
            BudgetExhausted.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }

    public static void RecordTimeout(string name, string kind)
    {
        if (Timeouts.Enabled)
        {
            Timeouts.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name), new KeyValuePair<string, object?>(ResilienceTelemetry.TimeoutKindTag, kind));
        }
    }

    public static void RecordRateLimiterRejection(string name)
    {
        if (RateLimiterRejections.Enabled)
        {
            RateLimiterRejections.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }

    [LoggerMessage(EventId = ResilienceEventIds.RetryScheduled, EventName = "RetryScheduled", Level = LogLevel.Information,
        Message = "Retry {Attempt} of '{Name}' in {DelayMs} ms after {Reason}")]
    public static partial void RetryScheduled(ILogger logger, string name, int attempt, double delayMs, string reason, Exception? exception);

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

    [LoggerMessage(EventId = ResilienceEventIds.TimeoutOccurred, EventName = "TimeoutOccurred", Level = LogLevel.Warning,
        Message = "The {Kind} timeout of '{Name}' ({TimeoutMs} ms) fired")]
    public static partial void TimeoutOccurred(ILogger logger, string kind, string name, double timeoutMs);

    [LoggerMessage(EventId = ResilienceEventIds.DeadlineExceeded, EventName = "DeadlineExceeded", Level = LogLevel.Error,
        Message = "'{Name}' ran past its deadline of {Limit}; its work was cancelled")]
    public static partial void DeadlineExceeded(ILogger logger, string name, TimeSpan limit);

    [LoggerMessage(EventId = ResilienceEventIds.DeadlineWorkDidNotStop, EventName = "DeadlineWorkDidNotStop", Level = LogLevel.Critical,
        Message = "'{Name}' did not stop within {GracePeriod} after its deadline cancelled it; it is still running")]
    public static partial void DeadlineWorkDidNotStop(ILogger logger, string name, TimeSpan gracePeriod);

    [LoggerMessage(EventId = ResilienceEventIds.RateLimiterRejected, EventName = "RateLimiterRejected", Level = LogLevel.Warning,
        Message = "Rate limiter '{Name}' rejected a call (retry after: {RetryAfter})")]
    public static partial void RateLimiterRejected(ILogger logger, string name, TimeSpan? retryAfter);

    /// <summary>The reason tag of a failed outcome: the exception's type name, or <c>result</c>.</summary>
    public static string ReasonOf(Exception? exception) => exception is null ? "result" : exception.GetType().Name;
}
