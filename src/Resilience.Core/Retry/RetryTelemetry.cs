using System.Diagnostics;
using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Retry;

/// <summary>Retry's instruments: retries, their delays, refusals of the budget, and how calls ended.</summary>
internal static class RetryTelemetry
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

    /// <summary>The reason tag of a failed outcome: the exception's type name, or <c>result</c>.</summary>
    public static string ReasonOf(Exception? exception) => exception is null ? "result" : exception.GetType().Name;
}
