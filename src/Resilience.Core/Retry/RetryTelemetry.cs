using System.Diagnostics;
using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Retry;

/// <summary>Retry's instruments: retries, their delays, refusals of the budget, and how calls ended.</summary>
internal sealed class RetryTelemetry : IResilienceInstruments<RetryTelemetry>
{
    /// <summary>Tag: the retry number (1 for the first retry).</summary>
    public const string AttemptTag = ResilienceTelemetry.AttemptTag;

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

    private readonly Counter<long> _retries;
    private readonly Histogram<double> _retryDelay;
    private readonly Counter<long> _budgetExhausted;
    private readonly Counter<long> _calls;

    private RetryTelemetry(Meter meter)
    {
        _retries = meter.CreateCounter<long>(
            "resilience.retry.attempts", "{retry}", "Retries performed, by retry number and reason.");
        _retryDelay = meter.CreateHistogram<double>(
            "resilience.retry.delay", "ms", "Delay before each retry.");
        _budgetExhausted = meter.CreateCounter<long>(
            "resilience.retry.budget_exhausted", "{retry}", "Retries refused because the retry budget was empty.");
        _calls = meter.CreateCounter<long>(
            "resilience.retry.calls", "{call}", "Calls through a retry strategy, by how they ended.");
    }

    /// <summary>Gets whether anyone listens to how calls end (checked before the call, on the first-try success path).</summary>
    public bool CallsEnabled => _calls.Enabled;

    public static RetryTelemetry Create(Meter meter) => new(meter);

    public void RecordCall(string name, string result)
    {
        if (_calls.Enabled)
        {
            _calls.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name), new KeyValuePair<string, object?>(RetryResultTag, result));
        }
    }

    public void RecordRetry(string name, int attempt, string reason, TimeSpan delay)
    {
        if (_retries.Enabled)
        {
            var tags = new TagList
            {
                { ResilienceTelemetry.NameTag, name },
                { AttemptTag, attempt },
                { ResilienceTelemetry.ReasonTag, reason },
            };
            _retries.Add(1, tags);
        }

        if (_retryDelay.Enabled)
        {
            _retryDelay.Record(delay.TotalMilliseconds, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }

    public void RecordBudgetExhausted(string name)
    {
        if (_budgetExhausted.Enabled)
        {
            _budgetExhausted.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }

    /// <summary>The reason tag of a failed outcome: the exception's type name, or <c>result</c>.</summary>
    public static string ReasonOf(Exception? exception) => exception is null ? "result" : exception.GetType().Name;
}
