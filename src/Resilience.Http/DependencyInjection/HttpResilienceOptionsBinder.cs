using Microsoft.Extensions.DependencyInjection;
using Resilience.DependencyInjection;

namespace Resilience.Http;

/// <summary>The configuration keys of <see cref="HttpResilienceOptions"/>, bound by Core's one binder (trimming-safe, unknown keys rejected at every depth).</summary>
internal static class HttpResilienceOptionsBinder
{
    public static readonly OptionsSchema<HttpRetryBudgetOptions> RetryBudget = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("MaxTokens", static (o, k, e) => o.MaxTokens = OptionsValue.Double(k, e, o.MaxTokens)),
        ("DepositPerSuccess", static (o, k, e) => o.DepositPerSuccess = OptionsValue.Double(k, e, o.DepositPerSuccess)),
        ("MinRetriesPerSecond", static (o, k, e) => o.MinRetriesPerSecond = OptionsValue.Int(k, e, o.MinRetriesPerSecond)));

    public static readonly OptionsSchema<HttpCachedFallbackOptions> CachedFallback = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("MaxEntries", static (o, k, e) => o.MaxEntries = OptionsValue.Int(k, e, o.MaxEntries)),
        ("MaxBodyBytes", static (o, k, e) => o.MaxBodyBytes = OptionsValue.Int(k, e, o.MaxBodyBytes)),
        ("MaxStaleness", static (o, k, e) => o.MaxStaleness = OptionsValue.TimeSpan(k, e, o.MaxStaleness)));

    public static readonly OptionsSchema<HttpHedgingOptions> Hedging = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("Delay", static (o, k, e) => o.Delay = OptionsValue.TimeSpan(k, e, o.Delay)),
        ("MaxHedgedAttempts", static (o, k, e) => o.MaxHedgedAttempts = OptionsValue.Int(k, e, o.MaxHedgedAttempts)),
        ("Routing", static (o, k, e) => OptionsValue.Section(k, e, o.Routing, HttpRoutingBinder.Routing)));

    public static readonly OptionsSchema<HttpFaultResponseOptions> FaultResponse = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("Rate", static (o, k, e) => o.Rate = OptionsValue.Double(k, e, o.Rate)),
        ("StatusCode", static (o, k, e) => o.StatusCode = OptionsValue.Int(k, e, o.StatusCode)));

    public static readonly OptionsSchema<HttpFaultLatencyOptions> FaultLatency = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("Rate", static (o, k, e) => o.Rate = OptionsValue.Double(k, e, o.Rate)),
        ("Delay", static (o, k, e) => o.Delay = OptionsValue.TimeSpan(k, e, o.Delay)));

    public static readonly OptionsSchema<HttpFaultExceptionOptions> FaultException = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("Rate", static (o, k, e) => o.Rate = OptionsValue.Double(k, e, o.Rate)));

    public static readonly OptionsSchema<HttpFaultInjectionOptions> FaultInjection = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("Response", static (o, k, e) => OptionsValue.Section(k, e, o.Response, FaultResponse)),
        ("Latency", static (o, k, e) => OptionsValue.Section(k, e, o.Latency, FaultLatency)),
        ("Exception", static (o, k, e) => OptionsValue.Section(k, e, o.Exception, FaultException)));

    // Core's keys, nested: a key Core adds is bound (and checked) here with no edit.
    public static readonly OptionsSchema<HttpConcurrencyLimitOptions> ConcurrencyLimit = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("Options", static (o, k, e) => OptionsValue.Section(k, e, o.Options, AdaptiveConcurrencyResilienceBuilderExtensions.Schema)));

    public static readonly OptionsSchema<HttpAdaptiveThrottlingOptions> AdaptiveThrottling = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("Options", static (o, k, e) => OptionsValue.Section(k, e, o.Options, AdaptiveThrottlingResilienceBuilderExtensions.Schema)));

    // The four times are set only when parsed: a time that is set is checked against the others, a derived one is not.
    public static readonly OptionsSchema<HttpResilienceOptions> Options = new(
        ("TotalTimeout", static (o, k, e) => { if (OptionsValue.TryTimeSpan(k, e, out var v)) { o.TotalTimeout = v; } }),
        ("AttemptTimeout", static (o, k, e) => { if (OptionsValue.TryTimeSpan(k, e, out var v)) { o.AttemptTimeout = v; } }),
        ("MaxRetries", static (o, k, e) => o.MaxRetries = OptionsValue.Int(k, e, o.MaxRetries)),
        ("BaseDelay", static (o, k, e) => { if (OptionsValue.TryTimeSpan(k, e, out var v)) { o.BaseDelay = v; } }),
        ("MaxDelay", static (o, k, e) => { if (OptionsValue.TryTimeSpan(k, e, out var v)) { o.MaxDelay = v; } }),
        ("FailureThreshold", static (o, k, e) => o.FailureThreshold = OptionsValue.Int(k, e, o.FailureThreshold)),
        ("BreakDuration", static (o, k, e) => o.BreakDuration = OptionsValue.TimeSpan(k, e, o.BreakDuration)),
        ("BreakerScope", static (o, k, e) => o.BreakerScope = OptionsValue.Enum(k, e, o.BreakerScope)),
        ("MaxTrackedAuthorities", static (o, k, e) => o.MaxTrackedAuthorities = OptionsValue.Int(k, e, o.MaxTrackedAuthorities)),
        ("RetryUnsafeMethods", static (o, k, e) => o.RetryUnsafeMethods = OptionsValue.Bool(k, e, o.RetryUnsafeMethods)),
        ("MaxBufferedContentBytes", static (o, k, e) => o.MaxBufferedContentBytes = OptionsValue.Int(k, e, o.MaxBufferedContentBytes)),
        ("RetryBudget", static (o, k, e) => OptionsValue.Section(k, e, o.RetryBudget, RetryBudget)),
        ("CachedFallback", static (o, k, e) => OptionsValue.Section(k, e, o.CachedFallback, CachedFallback)),
        ("Hedging", static (o, k, e) => OptionsValue.Section(k, e, o.Hedging, Hedging)),
        ("FaultInjection", static (o, k, e) => OptionsValue.Section(k, e, o.FaultInjection, FaultInjection)),
        ("ConcurrencyLimit", static (o, k, e) => OptionsValue.Section(k, e, o.ConcurrencyLimit, ConcurrencyLimit)),
        ("AdaptiveThrottling", static (o, k, e) => OptionsValue.Section(k, e, o.AdaptiveThrottling, AdaptiveThrottling)),
        ("FailureSurface", static (o, k, e) => o.FailureSurface = OptionsValue.Enum(k, e, o.FailureSurface)));
}
