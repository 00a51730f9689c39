using Resilience.CircuitBreaking;
using Resilience.Fallback;
using Resilience.FaultInjection;
using Resilience.Health;
using Resilience.Hedging;
using Resilience.Retry;

namespace Resilience.DependencyInjection;

/// <summary>The configuration keys of Core's options, shared with the adapters, which nest them in their own sections.</summary>
/// <remarks>Only settings that are values bind; callbacks and shared objects (<c>ShouldHandle</c>, <c>Budget</c>, …) are set in code.</remarks>
internal static class OptionsSchemas
{
    public static readonly OptionsSchema<RetryOptions> Retry = new(
        ("MaxRetries", static (o, k, e) => o.MaxRetries = OptionsValue.Int(k, e, o.MaxRetries)),
        ("BaseDelay", static (o, k, e) => o.BaseDelay = OptionsValue.TimeSpan(k, e, o.BaseDelay)),
        ("MaxDelay", static (o, k, e) => o.MaxDelay = OptionsValue.TimeSpan(k, e, o.MaxDelay)),
        ("Backoff", static (o, k, e) => o.Backoff = OptionsValue.Enum(k, e, o.Backoff)),
        ("BackoffFactor", static (o, k, e) => o.BackoffFactor = OptionsValue.Double(k, e, o.BackoffFactor)),
        ("Jitter", static (o, k, e) => o.Jitter = OptionsValue.Enum(k, e, o.Jitter)),
        ("WaitOutShortBreaks", static (o, k, e) => o.WaitOutShortBreaks = OptionsValue.Bool(k, e, o.WaitOutShortBreaks)));

    public static readonly OptionsSchema<RetryBudgetOptions> RetryBudget = new(
        ("MaxTokens", static (o, k, e) => o.MaxTokens = OptionsValue.Double(k, e, o.MaxTokens)),
        ("DepositPerSuccess", static (o, k, e) => o.DepositPerSuccess = OptionsValue.Double(k, e, o.DepositPerSuccess)),
        ("MinRetriesPerSecond", static (o, k, e) => o.MinRetriesPerSecond = OptionsValue.Int(k, e, o.MinRetriesPerSecond)));

    public static readonly OptionsSchema<CircuitBreakerOptions> CircuitBreaker = new(
        ("Mode", static (o, k, e) => o.Mode = OptionsValue.Enum(k, e, o.Mode)),
        ("FailureThreshold", static (o, k, e) => o.FailureThreshold = OptionsValue.Int(k, e, o.FailureThreshold)),
        ("BreakDuration", static (o, k, e) => o.BreakDuration = OptionsValue.TimeSpan(k, e, o.BreakDuration)),
        ("FailureRatio", static (o, k, e) => o.FailureRatio = OptionsValue.Double(k, e, o.FailureRatio)),
        ("SamplingDuration", static (o, k, e) => o.SamplingDuration = OptionsValue.TimeSpan(k, e, o.SamplingDuration)),
        ("SamplingBuckets", static (o, k, e) => o.SamplingBuckets = OptionsValue.Int(k, e, o.SamplingBuckets)),
        ("MinimumThroughput", static (o, k, e) => o.MinimumThroughput = OptionsValue.Int(k, e, o.MinimumThroughput)),
        ("SlowCallThreshold", static (o, k, e) => o.SlowCallThreshold = OptionsValue.OptionalTimeSpan(k, e, o.SlowCallThreshold)),
        ("PermittedProbes", static (o, k, e) => o.PermittedProbes = OptionsValue.Int(k, e, o.PermittedProbes)),
        ("BreakDurationFactor", static (o, k, e) => o.BreakDurationFactor = OptionsValue.Double(k, e, o.BreakDurationFactor)),
        ("MaxBreakDuration", static (o, k, e) => o.MaxBreakDuration = OptionsValue.TimeSpan(k, e, o.MaxBreakDuration)),
        ("ProbeTimeout", static (o, k, e) => o.ProbeTimeout = OptionsValue.TimeSpan(k, e, o.ProbeTimeout)),
        ("ClusterWide", static (o, k, e) => o.ClusterWide = OptionsValue.Bool(k, e, o.ClusterWide)));

    public static readonly OptionsSchema<CachedFallbackOptions> CachedFallback = new(
        ("MaxEntries", static (o, k, e) => o.MaxEntries = OptionsValue.Int(k, e, o.MaxEntries)),
        ("MaxStaleness", static (o, k, e) => o.MaxStaleness = OptionsValue.TimeSpan(k, e, o.MaxStaleness)));

    public static readonly OptionsSchema<ResiliencePipelineOptions> Pipeline = new(
        ("TotalTimeout", static (o, k, e) => o.TotalTimeout = OptionsValue.OptionalTimeSpan(k, e, o.TotalTimeout)),
        ("AttemptTimeout", static (o, k, e) => o.AttemptTimeout = OptionsValue.OptionalTimeSpan(k, e, o.AttemptTimeout)),
        ("ConcurrencyLimit", static (o, k, e) => o.ConcurrencyLimit = OptionsValue.OptionalInt(k, e, o.ConcurrencyLimit)),
        ("QueueLimit", static (o, k, e) => o.QueueLimit = OptionsValue.Int(k, e, o.QueueLimit)),
        ("Retry", static (o, k, e) => OptionsValue.Section(k, e, o.Retry ??= new RetryOptions(), Retry)),
        ("RetryBudget", static (o, k, e) => OptionsValue.Section(k, e, o.RetryBudget ??= new RetryBudgetOptions(), RetryBudget)),

        // The breaker's own keys are bound (and checked) by the breaker registered under the pipeline's name.
        ("CircuitBreaker", static (o, _, _) => o.CircuitBreaker = true));

    public static readonly OptionsSchema<PoolHealthOptions> PoolHealth = new(
        ("CheckInterval", static (o, k, e) => o.CheckInterval = OptionsValue.TimeSpan(k, e, o.CheckInterval)),
        ("PingTimeout", static (o, k, e) => o.PingTimeout = OptionsValue.TimeSpan(k, e, o.PingTimeout)),
        ("SlowPingThreshold", static (o, k, e) => o.SlowPingThreshold = OptionsValue.TimeSpan(k, e, o.SlowPingThreshold)),
        ("WaitersSustainedFor", static (o, k, e) => o.WaitersSustainedFor = OptionsValue.TimeSpan(k, e, o.WaitersSustainedFor)),
        ("AcquireWaitBudget", static (o, k, e) => o.AcquireWaitBudget = OptionsValue.TimeSpan(k, e, o.AcquireWaitBudget)),
        ("AcquireTimeoutWindow", static (o, k, e) => o.AcquireTimeoutWindow = OptionsValue.TimeSpan(k, e, o.AcquireTimeoutWindow)),
        ("MaxReportAge", static (o, k, e) => o.MaxReportAge = OptionsValue.TimeSpan(k, e, o.MaxReportAge)),
        ("CriticalAfterPingFailures", static (o, k, e) => o.CriticalAfterPingFailures = OptionsValue.Int(k, e, o.CriticalAfterPingFailures)));

    public static readonly OptionsSchema<HedgingOptions> Hedging = new(
        ("MaxHedgedAttempts", static (o, k, e) => o.MaxHedgedAttempts = OptionsValue.Int(k, e, o.MaxHedgedAttempts)),
        ("Delay", static (o, k, e) => o.Delay = OptionsValue.TimeSpan(k, e, o.Delay)));

    public static readonly OptionsSchema<FaultInjectionOptions> FaultInjection = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("ExceptionRate", static (o, k, e) => o.ExceptionRate = OptionsValue.Double(k, e, o.ExceptionRate)),
        ("LatencyRate", static (o, k, e) => o.LatencyRate = OptionsValue.Double(k, e, o.LatencyRate)),
        ("Latency", static (o, k, e) => o.Latency = OptionsValue.TimeSpan(k, e, o.Latency)));
}
