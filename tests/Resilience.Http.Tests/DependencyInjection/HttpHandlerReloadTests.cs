using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Http.Testing;
using Resilience.Telemetry;
using Resilience.Testing;

namespace Resilience.Http.Tests.DependencyInjection;

public sealed class HttpHandlerReloadTests : IAsyncLifetime
{
    private const string Prefix = "Resilience:Http:llm:";
    private FaultServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await FaultServer.StartAsync();
        _server.Default = FaultResponse.Status(503);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AddResilienceHttpHandler_ConfigurationReloaded_NextRequestUsesNewValues_BreakerKeepsItsCounts()
    {
        await using var host = new ReloadHost(_server, ("MaxRetries", "1"), ("FailureThreshold", "20"));
        using var client = host.CreateClient();
        Assert.Equal(2, await AttemptsOf(client));
        var breaker = host.Breaker();

        host.Reload(("MaxRetries", "3"));

        Assert.Equal(4, await AttemptsOf(client));
        Assert.Same(breaker, host.Breaker());
        Assert.Equal(6, breaker.GetSnapshot().Failures);
        Assert.Contains(ResilienceEventIds.OptionsReloaded, host.Log.EventIds);
    }

    [Fact]
    public async Task AddResilienceHttpHandler_UnrelatedOptionsReloaded_OpenCircuitStaysOpen()
    {
        await using var host = new ReloadHost(_server, ("MaxRetries", "1"), ("FailureThreshold", "2"));
        using var client = host.CreateClient();
        await AttemptsOf(client);
        Assert.Equal(CircuitState.Open, host.Breaker().State);
        var sent = _server.RequestCount;

        host.Reload(("MaxRetries", "3"), ("AttemptTimeout", "00:00:05"));

        using var response = await client.GetAsync("complete");
        Assert.Equal(HttpResilienceOutcome.CircuitOpen, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(sent, _server.RequestCount);
        Assert.Equal(CircuitState.Open, host.Breaker().State);
    }

    [Fact]
    public async Task AddResilienceHttpHandler_Reloaded_LimiterKeptWhileItsSettingsHold_ReplacedWhenTheyChange()
    {
        _server.Default = FaultResponse.Ok("ok");
        await using var host = new ReloadHost(_server, ("ConcurrencyLimit:Enabled", "true"), ("AdaptiveThrottling:Enabled", "true"));
        using var client = host.CreateClient();
        (await client.GetAsync("x")).Dispose();
        var limits = host.Services.GetRequiredService<HttpResilienceLimiters>();
        var limiter = Assert.Single(limits.GetConcurrencyLimiters("llm"));
        var throttler = Assert.Single(limits.GetThrottlers("llm"));
        Assert.Equal($"llm:http://127.0.0.1:{_server.BaseAddress.Port}", limiter.Name);

        host.Reload(("MaxRetries", "1"));
        Assert.Same(limiter, Assert.Single(limits.GetConcurrencyLimiters("llm")));
        Assert.Same(throttler, Assert.Single(limits.GetThrottlers("llm")));

        host.Reload(("ConcurrencyLimit:Options:MaxLimit", "50"));
        var replaced = Assert.Single(limits.GetConcurrencyLimiters("llm"));
        Assert.NotSame(limiter, replaced);
        Assert.Equal(50, replaced.Options.MaxLimit);
        Assert.Same(throttler, Assert.Single(limits.GetThrottlers("llm")));

        host.Reload(("ConcurrencyLimit:Enabled", "false"));
        Assert.Empty(limits.GetConcurrencyLimiters("llm"));
    }

    [Fact]
    public async Task AddResilienceHttpHandler_BreakerOptionsReloaded_AppliedToTheLiveBreaker()
    {
        await using var host = new ReloadHost(_server, ("MaxRetries", "0"), ("FailureThreshold", "5"));
        using var client = host.CreateClient();
        await AttemptsOf(client);
        await AttemptsOf(client);

        host.Reload(("FailureThreshold", "3"));

        Assert.Equal(CircuitState.Closed, host.Breaker().State);
        await AttemptsOf(client);
        Assert.Equal(CircuitState.Open, host.Breaker().State);
    }

    [Fact]
    public async Task AddResilienceHttpHandler_ReloadedWithInvalidValues_RejectsAndLogs_OldValuesStay()
    {
        await using var host = new ReloadHost(_server, ("MaxRetries", "1"), ("FailureThreshold", "20"));
        using var client = host.CreateClient();

        host.Reload(("MaxRetries", "500"));
        host.Reload(("MaxRetrys", "2"));

        Assert.Equal(2, await AttemptsOf(client));
        Assert.Equal(1, host.Services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get("llm").MaxRetries);
        var rejected = host.Log.Entries.Where(e => e.EventId.Id == ResilienceEventIds.OptionsReloadRejected).ToList();
        Assert.Equal(2, rejected.Count);
        Assert.Contains("MaxRetries", rejected[0].Message, StringComparison.Ordinal);
        Assert.Contains("MaxRetrys", rejected[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddResilienceHttpHandler_ReloadRaisesTotalTimeoutAboveCreatedClientsTimeout_Rejected()
    {
        await using var host = new ReloadHost(_server, c => c.Timeout = TimeSpan.FromSeconds(40), ("TotalTimeout", "00:00:30"));
        using var client = host.CreateClient();
        await AttemptsOf(client);

        host.Reload(("TotalTimeout", "00:01:00"));
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>();
        Assert.Equal(TimeSpan.FromSeconds(30), monitor.Get("llm").TotalTimeout);
        var rejected = Assert.Single(host.Log.Entries, e => e.EventId.Id == ResilienceEventIds.OptionsReloadRejected);
        Assert.Contains("HttpClient.Timeout (00:00:40)", rejected.Message, StringComparison.Ordinal);

        host.Reload(("TotalTimeout", "00:00:35"));
        Assert.Equal(TimeSpan.FromSeconds(35), monitor.Get("llm").TotalTimeout);
    }

    [Fact]
    public async Task AddResilienceHttpHandler_ReloadUnderConcurrentRequests_EveryRequestRunsUnderTheOldOrTheNewOptions()
    {
        // No retry budget: under a steady 503 it would (rightly) stop retries, and the count of attempts would say nothing.
        await using var host = new ReloadHost(_server, ("MaxRetries", "1"), ("FailureThreshold", "10000"), ("RetryBudget:Enabled", "false"));
        using var client = host.CreateClient();
        const int Workers = 4;

        var requests = await ConcurrentCalls.RunWhileAsync(Workers, () => AttemptsOf(client), async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                host.Reload(("MaxRetries", i % 2 == 0 ? "3" : "1"));

                // Let traffic run under each set of options before the next reload.
                await _server.WaitForRequestsAsync(_server.RequestCount + Workers);
            }
        });

        // 2 attempts (1 retry) or 4 (3 retries), never a mix; every request answered, and every attempt reached the server.
        Assert.All(requests, attempts => Assert.True(attempts is 2 or 4, $"A request made {attempts} attempts."));
        Assert.Equal(requests.Sum(), _server.RequestCount);
        Assert.Equal(2, await AttemptsOf(client));
        Assert.DoesNotContain(host.Log.EventIds, id => id is ResilienceEventIds.OptionsReloadRejected or ResilienceEventIds.OptionsReloadListenerFailed or HttpResilienceEventIds.ReloadFailed);
    }

    private static async Task<int> AttemptsOf(HttpClient client)
    {
        using var response = await client.GetAsync("complete");
        return HttpResilienceResponse.GetAttempts(response) ?? throw new InvalidOperationException("The response carries no marker.");
    }

    /// <summary>A container with the client <c>llm</c> bound from an in-memory configuration that tests change and reload.</summary>
    private sealed class ReloadHost : IAsyncDisposable
    {
        private readonly IConfigurationRoot _configuration;
        private readonly ServiceProvider _services;
        private readonly FaultServer _server;

        public ReloadHost(FaultServer server, params (string Key, string Value)[] values)
            : this(server, null, values)
        {
        }

        public ReloadHost(FaultServer server, Action<HttpClient>? configureClient, params (string Key, string Value)[] values)
        {
            _server = server;
            var all = new Dictionary<string, string?> { [Prefix + "BaseDelay"] = "00:00:00", [Prefix + "MaxDelay"] = "00:00:00" };
            foreach (var (key, value) in values)
            {
                all[Prefix + key] = value;
            }

            _configuration = new ConfigurationBuilder().AddInMemoryCollection(all).Build();
            var services = new ServiceCollection();
            services.AddSingleton<TimeProvider>(new DelayRecordingTimeProvider());
            services.AddLogging(b => b.AddProvider(Log).SetMinimumLevel(LogLevel.Trace));
            services.AddHttpClient("llm", c =>
                {
                    c.BaseAddress = server.BaseAddress;
                    configureClient?.Invoke(c);
                })
                .AddResilienceHttpHandler(_configuration.GetSection("Resilience:Http:llm"));
            _services = services.BuildServiceProvider();
            _services.GetRequiredService<IStartupValidator>().Validate();
        }

        public CapturingLogger Log { get; } = new();

        public IServiceProvider Services => _services;

        public HttpClient CreateClient() => _services.GetRequiredService<IHttpClientFactory>().CreateClient("llm");

        public CircuitBreaking.CircuitBreaker Breaker() =>
            _services.GetRequiredService<CircuitBreakerRegistry>().TryGet($"llm:http://127.0.0.1:{_server.BaseAddress.Port}", out var breaker)
                ? breaker
                : throw new InvalidOperationException("No breaker for the server's authority.");

        public void Reload(params (string Key, string Value)[] changes)
        {
            foreach (var (key, value) in changes)
            {
                _configuration[Prefix + key] = value;
            }

            _configuration.Reload();
        }

        public ValueTask DisposeAsync() => _services.DisposeAsync();
    }
}
