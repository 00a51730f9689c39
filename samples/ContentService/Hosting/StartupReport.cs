using ContentService.Events;
using ContentService.Metrics;
using ContentService.Providers;
using ContentService.Security;
using ContentService.Tasks.Execution;
using System.Globalization;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Npgsql;

namespace ContentService.Hosting;

/// <summary>Logs, once the host has started, what was initialised and with which settings (never a key or a connection string).</summary>
internal sealed partial class StartupReport(
    IHostApplicationLifetime lifetime,
    IOptions<NpgsqlResilienceOptions> database,
    IOptions<ProvidersOptions> providers,
    IOptions<ExecutorOptions> executor,
    IOptions<RateLimitOptions> limits,
    IOptions<EventsOptions> events,
    IOptions<MetricsOptions> metrics,
    IOptions<HostOptions> host,
    ApiKeyStore keys,
    TaskExecutor taskExecutor,
    ILogger<StartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(static state => ((StartupReport)state!).Report(), this);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Report()
    {
        var d = database.Value;
        var breaker = DescribeBreaker(d.CircuitBreaker);
        LogDatabase(logger, d.Name, d.QueryTimeouts.StatementTimeout, d.Retry.MaxRetries, breaker);
        var p = providers.Value;
        foreach (var llm in p.Llm)
        {
            LogProvider(logger, llm.Name, llm.UsdPer1KTokens, llm.MaxComplexity, p.BaseUrl!);
        }

        LogRouting(logger, p.WhenAllDown, p.QualityThreshold);
        var e = executor.Value;
        LogExecutor(logger, taskExecutor.InstanceId, e.Workers, e.Deadline.Limit, e.LeaseDuration, e.MaxAttempts);
        var l = limits.Value;
        LogSecurity(logger, keys.ConfiguredCount, l.PermitsPerWindow, l.Window, l.ConcurrencyLimit);
        LogEvents(logger, events.Value.MaxConnectionsPerClient, events.Value.MaxConnections, events.Value.IdleTimeout);
        LogMetrics(logger, metrics.Value.CacheDuration, metrics.Value.MaxStaleness, host.Value.ShutdownTimeout);
    }

    /// <summary>What opens the breaker in the mode it runs in (the threshold means nothing in ratio mode, and the other way round).</summary>
    internal static string DescribeBreaker(CircuitBreakerOptions b) => b.Mode == CircuitBreakerMode.FailureRatio
        ? string.Create(CultureInfo.InvariantCulture, $"breaker opens when at least {b.FailureRatio * 100:0.#}% of at least {b.MinimumThroughput} calls in {b.SamplingDuration.TotalSeconds:0.###} s fail, for {b.BreakDuration.TotalSeconds:0.###} s")
        : string.Create(CultureInfo.InvariantCulture, $"breaker opens after {b.FailureThreshold} consecutive failures, for {b.BreakDuration.TotalSeconds:0.###} s");

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Database '{Name}' through Resilience.Npgsql: statement timeout {StatementTimeout}, {MaxRetries} retries, {Breaker}")]
    private static partial void LogDatabase(ILogger logger, string name, TimeSpan statementTimeout, int maxRetries, string breaker);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "LLM provider '{Provider}': {UsdPer1KTokens} USD per 1K tokens, up to '{MaxComplexity}' tasks, at {BaseUrl}")]
    private static partial void LogProvider(ILogger logger, string provider, decimal usdPer1KTokens, string maxComplexity, Uri baseUrl);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Model router: when every provider is down tasks {Policy}; critique threshold {Threshold}/10")]
    private static partial void LogRouting(ILogger logger, AllProvidersDownPolicy policy, int threshold);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Task executor {InstanceId}: {Workers} workers, deadline {Deadline}, lease {Lease}, {MaxAttempts} attempts")]
    private static partial void LogExecutor(ILogger logger, string instanceId, int workers, TimeSpan deadline, TimeSpan lease, int maxAttempts);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Security: {KeyCount} configured API keys (hashed), {Permits} requests per {Window} per client, {Concurrency} concurrent requests")]
    private static partial void LogSecurity(ILogger logger, int keyCount, int permits, TimeSpan window, int concurrency);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Event streams: {PerClient} per client, {Total} in total, closed after {IdleTimeout} idle")]
    private static partial void LogEvents(ILogger logger, int perClient, int total, TimeSpan idleTimeout);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Metrics cached {CacheDuration}, served stale up to {MaxStaleness}; shutdown waits up to {ShutdownTimeout}")]
    private static partial void LogMetrics(ILogger logger, TimeSpan cacheDuration, TimeSpan maxStaleness, TimeSpan shutdownTimeout);
}
