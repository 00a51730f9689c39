using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ContentService.Providers;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Http;
using Resilience.Testing;
using Xunit.Abstractions;

namespace ContentService.Tests.Status;

/// <summary>
/// A provider that slows down with load (the fake providers' <c>latencyPerInFlightMs</c>), driven past its limit through the
/// service's own provider client, on loopback: the calls beyond the adaptive limit are refused at once instead of piling up,
/// the service's cheap endpoints keep answering, and the status page shows the provider's limit, in-flight and queued.
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class ProviderSlowdownTests(PostgresFixture postgres, ITestOutputHelper output) : IAsyncLifetime
{
    private ServiceHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await ServiceHarness.StartAsync(postgres.ConnectionString);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task ProviderSaturated_ExtraCallsShedAtOnce_CheapEndpointsAnswer_StatusShowsTheLimit()
    {
        var service = _harness.AddInstance(new Dictionary<string, string?>
        {
            ["Resilience:Http:llm:ConcurrencyLimit:Options:InitialLimit"] = "4",
            ["Resilience:Http:llm:ConcurrencyLimit:Options:QueueLimit"] = "2",
            ["Resilience:Http:llm:ConcurrencyLimit:Options:MaxQueueWait"] = "00:00:30",
        });
        using var client = service.CreateClient();
        (await client.GetAsync(new Uri("/health/live", UriKind.Relative))).Dispose();
        await _harness.Providers.SetFaultAsync("local", """{"latencyPerInFlightMs":5000}""");
        var llm = service.Services.GetRequiredService<IHttpClientFactory>().CreateClient(ModelRouter.ClientPrefix + "local");

        // Twelve generations at once: four in flight (each waits 5 s per request in flight, so none ends during the test),
        // two queued, the other six refused at once. The test cancels the slow ones when it is done.
        using var giveUp = new CancellationTokenSource();
        var calls = Enumerable.Range(0, 12).Select(i => llm.PostAsJsonAsync(new Uri("generate", UriKind.Relative), new { prompt = $"slowdown {i}" }, giveUp.Token)).ToArray();

        var watch = Stopwatch.StartNew();
        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        using var tasks = await client.GetAsync(new Uri("/api/content?pageSize=5", UriKind.Relative));
        using var status = await client.GetAsync(new Uri("/status/data", UriKind.Relative));
        watch.Stop();
        output.WriteLine($"cheap endpoints answered in {watch.Elapsed.TotalMilliseconds:F0} ms while the provider was saturated");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, tasks.StatusCode);
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        using var json = JsonDocument.Parse(await status.Content.ReadAsStringAsync());
        var limit = json.RootElement.GetProperty("limits").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "llm-local");
        Assert.Equal(4, limit.GetProperty("limit").GetInt32());
        Assert.Equal(4, limit.GetProperty("inFlight").GetInt32());
        Assert.Equal(2, limit.GetProperty("queued").GetInt32());
        Assert.True(limit.TryGetProperty("throttlingPercent", out _));

        await giveUp.CancelAsync();
        var (shed, cancelled) = (0, 0);
        foreach (var call in calls)
        {
            try
            {
                using var response = await call;
                shed += HttpResilienceResponse.GetOutcome(response) == HttpResilienceOutcome.ConcurrencyLimited ? 1 : 0;
            }
            catch (OperationCanceledException)
            {
                cancelled++;
            }
        }

        Assert.Equal(6, shed);
        Assert.Equal(6, cancelled);
    }
}
