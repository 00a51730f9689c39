using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Http.Testing;
using Resilience.Telemetry;
using Resilience.Testing;

namespace Resilience.Http.Tests.DependencyInjection;

public sealed class ResilienceHttpClientBuilderExtensionsTests : IAsyncLifetime
{
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void AddResilienceHttpHandler_InvalidConfiguration_FailsAtStartUpNamingKeyAndRule()
    {
        var configuration = Config(("Resilience:Http:x:MaxRetries", "500"), ("Resilience:Http:x:AttemptTimeout", "00:01:00"), ("Resilience:Http:x:TotalTimeout", "00:00:30"));
        var services = new ServiceCollection();
        services.AddHttpClient("x").AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:x"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f.StartsWith("Resilience:Http:x", StringComparison.Ordinal)
            && f.Contains("MaxRetries", StringComparison.Ordinal) && f.Contains("between 0 and 100", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("AttemptTimeout", StringComparison.Ordinal) && f.Contains("at most TotalTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public void AddResilienceHttpHandler_UnknownOrUnparsableKey_FailsAtStartUpNamingPath()
    {
        var configuration = Config(("Resilience:Http:x:MaxRetrys", "2"));
        var services = new ServiceCollection();
        services.AddHttpClient("x").AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:x"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f.Contains("Resilience:Http:x", StringComparison.Ordinal) && f.Contains("MaxRetrys", StringComparison.Ordinal));
    }

    [Fact]
    public void AddResilienceHttpHandler_OtherClientInvalid_ReportsOnlyThatClient()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("good").AddResilienceHttpHandler();
        services.AddHttpClient("bad").AddResilienceHttpHandler(o =>
        {
            o.MaxDelay = TimeSpan.FromMinutes(5);
            o.TotalTimeout = TimeSpan.FromMinutes(1);
        });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.All(error.Failures, f => Assert.StartsWith("Resilience:Http:bad", f, StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("MaxDelay", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddResilienceHttpHandler_FromConfiguration_RetriesAndReportsBreakerInRegistry()
    {
        var configuration = Config(("Resilience:Http:llm:MaxRetries", "2"), ("Resilience:Http:llm:BaseDelay", "00:00:00"), ("Resilience:Http:llm:MaxDelay", "00:00:00"));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new DelayRecordingTimeProvider());
        services.AddHttpClient("llm", c => c.BaseAddress = _server.BaseAddress)
            .AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:llm"));
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        _server.Enqueue(FaultResponse.Status(503), FaultResponse.Status(503), FaultResponse.Status(503));

        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("llm");
        using var response = await client.GetAsync("complete?prompt=secret");

        Assert.True(client.Timeout >= TimeSpan.FromSeconds(30), "HttpClient.Timeout must not cut the total timeout short");
        Assert.Equal(3, _server.RequestCount);
        Assert.Equal(HttpResilienceOutcome.RetriesExhausted, HttpResilienceResponse.GetOutcome(response));
        var status = Assert.Single(provider.GetRequiredService<CircuitBreakerRegistry>().GetStatusReport());
        Assert.Equal($"llm:http://127.0.0.1:{_server.BaseAddress.Port}", status.Name);
        Assert.Equal(3, status.Failures);
    }

    [Fact]
    public async Task AddResilienceHttpHandler_ClientTimeoutAtLeastTotal_Kept()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("slow", c => c.Timeout = TimeSpan.FromMinutes(2)).AddResilienceHttpHandler();
        services.AddHttpClient("fits", c => c.Timeout = TimeSpan.FromSeconds(2)).AddResilienceHttpHandler(o => o.TotalTimeout = TimeSpan.FromSeconds(2));
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        Assert.Equal(TimeSpan.FromMinutes(2), factory.CreateClient("slow").Timeout);
        Assert.Equal(TimeSpan.FromSeconds(2), factory.CreateClient("fits").Timeout);
    }

    [Fact]
    public async Task AddResilienceHttpHandler_ClientTimeoutShorterThanTotal_NotOverriddenAndStartUpFailsNamingBoth()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("short", c => c.Timeout = TimeSpan.FromSeconds(2)).AddResilienceHttpHandler();
        await using var provider = services.BuildServiceProvider();

        var atStartUp = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        var atCreateClient = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IHttpClientFactory>().CreateClient("short"));

        var failure = Assert.Single(atStartUp.Failures);
        Assert.StartsWith("Resilience:Http:short:TotalTimeout: HttpClient.Timeout (00:00:02) of the client 'short' is shorter than TotalTimeout (00:00:30)", failure, StringComparison.Ordinal);
        Assert.Equal(atStartUp.Failures, atCreateClient.Failures);
    }

    [Fact]
    public async Task AddResilienceHttpHandler_ClientTimeoutSetAfterHandler_StillDetected()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("late").AddResilienceHttpHandler().ConfigureHttpClient(c => c.Timeout = TimeSpan.FromSeconds(5));
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f.Contains("HttpClient.Timeout (00:00:05)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddResilienceHttpHandler_ClientTimeoutUnset_DefaultKeptOrRaisedForLongerTotal()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("default").AddResilienceHttpHandler();
        services.AddHttpClient("long").AddResilienceHttpHandler(o => o.TotalTimeout = TimeSpan.FromMinutes(3));
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        Assert.Equal(TimeSpan.FromSeconds(100), factory.CreateClient("default").Timeout);
        Assert.Equal(Timeout.InfiniteTimeSpan, factory.CreateClient("long").Timeout);
    }

    [Fact]
    public void AddResilienceHttpHandler_TwiceOnOneClient_ThrowsAtRegistration()
    {
        var services = new ServiceCollection();
        var builder = services.AddHttpClient("twice").AddResilienceHttpHandler();

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddResilienceHttpHandler(o => o.MaxRetries = 1));
        var viaSecondBuilder = Assert.Throws<InvalidOperationException>(() => services.AddHttpClient("twice").AddResilienceHttpHandler());

        Assert.Contains("already added to the HttpClient 'twice'", error.Message, StringComparison.Ordinal);
        Assert.Equal(error.Message, viaSecondBuilder.Message);
        services.AddHttpClient("other").AddResilienceHttpHandler();
    }

    [Fact]
    public async Task AddResilienceHttpHandler_BreakerStateSurvivesHandlerRotation()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new DelayRecordingTimeProvider());
        services.AddHttpClient("rot").AddResilienceHttpHandler(o =>
        {
            o.MaxRetries = 0;
            o.FailureThreshold = 1;
        });
        await using var provider = services.BuildServiceProvider();
        _server.Default = FaultResponse.Status(500);

        // Two handler chains built exactly as IHttpClientFactory builds one after each rotation.
        using (var first = new HttpClient(BuildChain(provider, "rot")))
        {
            (await first.GetAsync(_server.Url("/a"))).Dispose();
        }

        using var second = new HttpClient(BuildChain(provider, "rot"));
        using var response = await second.GetAsync(_server.Url("/a"));

        Assert.Equal(HttpResilienceOutcome.CircuitOpen, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(1, _server.RequestCount);
    }

    private static HttpMessageHandler BuildChain(IServiceProvider provider, string name)
    {
        var builder = provider.GetRequiredService<Microsoft.Extensions.Http.HttpMessageHandlerBuilder>();
        builder.Name = name;
        foreach (var action in provider.GetRequiredService<IOptionsMonitor<Microsoft.Extensions.Http.HttpClientFactoryOptions>>().Get(name).HttpMessageHandlerBuilderActions)
        {
            action(builder);
        }

        return builder.Build();
    }

    [Fact]
    public async Task Telemetry_RetriesTaggedWithClientAndAuthority_NoQueryInAnyTag()
    {
        var tags = new List<KeyValuePair<string, object?>>();
        var retriesTags = new List<KeyValuePair<string, object?>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ResilienceTelemetry.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, measurementTags, _) =>
        {
            lock (tags)
            {
                tags.AddRange(measurementTags.ToArray());
                if (instrument.Name == HttpResilienceTelemetry.RetriesInstrument && measurementTags.ToArray().Any(t => Equals(t.Value, "telemetry")))
                {
                    retriesTags.AddRange(measurementTags.ToArray());
                }
            }
        });
        listener.Start();
        var services = new ServiceCollection();
        services.AddHttpClient("telemetry").AddResilienceHttpHandler(o =>
        {
            o.BaseDelay = TimeSpan.Zero;
            o.MaxDelay = TimeSpan.Zero;
        });
        await using var provider = services.BuildServiceProvider();
        _server.Enqueue(FaultResponse.Status(503), FaultResponse.Ok("ok"));

        using var response = await provider.GetRequiredService<IHttpClientFactory>().CreateClient("telemetry")
            .GetAsync(_server.Url("/v1/items?api_key=secret"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(retriesTags, t => t.Key == HttpResilienceTelemetry.AuthorityTag && Equals(t.Value, $"http://127.0.0.1:{_server.BaseAddress.Port}"));
        lock (tags)
        {
            Assert.DoesNotContain(tags, t => t.Value?.ToString()?.Contains("secret", StringComparison.Ordinal) == true);
            Assert.Contains(tags, t => t.Value?.ToString() == $"telemetry:http://127.0.0.1:{_server.BaseAddress.Port}");
        }
    }

    [Fact]
    public async Task Telemetry_WithMeterFactory_ReportsOnTheContainersMeterOnly()
    {
        const string client = "meter-factory";
        var services = new ServiceCollection().AddMetrics();
        services.AddHttpClient(client).AddResilienceHttpHandler(o =>
        {
            o.BaseDelay = TimeSpan.Zero;
            o.MaxDelay = TimeSpan.Zero;
        });
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        using var container = new MeterRecorder(meter => ReferenceEquals(meter.Scope, factory));
        using var elsewhere = new MeterRecorder(meter => !ReferenceEquals(meter.Scope, factory));
        _server.Enqueue(FaultResponse.Status(503), FaultResponse.Ok("ok"));

        using var response = await provider.GetRequiredService<IHttpClientFactory>().CreateClient(client).GetAsync(_server.Url("/v1/items"));
        var breaker = $"{client}:http://127.0.0.1:{_server.BaseAddress.Port}";

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(container.Of(HttpResilienceTelemetry.RetriesInstrument, client));
        Assert.Single(container.Of("resilience.retry.attempts", breaker));
        Assert.Contains(container.Of("resilience.retry.calls", breaker), m => Equals(m.Tags["resilience.retry.result"], "retried_success"));
        Assert.Empty(elsewhere.Named(client));
        Assert.Empty(elsewhere.Named(breaker));
    }
}
