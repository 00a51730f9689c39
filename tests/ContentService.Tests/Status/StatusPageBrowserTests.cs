using System.Net;
using System.Net.Http.Json;
using ContentService.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;
using Resilience.CircuitBreaking;
using Resilience.Testing;

namespace ContentService.Tests.Status;

/// <summary>The status page in a real headless Chromium, against the service on Kestrel, a real database and the real fake providers.</summary>
public sealed class StatusPageBrowserTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [BrowserFact]
    public async Task StatusPage_CheapestProviderFaulted_ShowsItsBreakerOpenAndTheNextProviderCosting_NoConsoleErrors()
    {
        await using var providers = FakeProvidersServer.Start();
        var database = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var service = new ContentServiceFactory(database, providers.BaseAddress, new Dictionary<string, string?>
        {
            ["StatusPage:RefreshInterval"] = "00:00:00.250",
            ["StatusPage:SampleInterval"] = "00:00:00.250",
            ["Metrics:CacheDuration"] = "00:00:00",
        });
        service.UseKestrel(static o => o.Listen(IPAddress.Loopback, 0));
        service.StartServer();
        var baseAddress = new Uri(service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var browser = HeadlessChromium.Start();
        var wait = new WebDriverWait(browser.Driver, TimeSpan.FromSeconds(60)) { PollingInterval = TimeSpan.FromMilliseconds(100) };

        // The page redraws every refresh, so elements are read in one script call each (no stale references).
        browser.Driver.Navigate().GoToUrl(new Uri(baseAddress, "/status"));
        wait.Until(d => Texts(d, "body[data-loaded='true']").Count > 0);
        Assert.Single(Texts(browser.Driver, "[data-breaker='content-db'][data-state='closed']"));
        Assert.Empty(Texts(browser.Driver, "[data-breaker][data-state='open']"));
        Assert.DoesNotContain("circuit", Assert.Single(Texts(browser.Driver, "#overall")), StringComparison.Ordinal); // the pool may say "Degraded" on a busy machine

        // The cheapest provider fails every call: a low-complexity task tries it first, its breaker opens, budget takes over.
        await providers.SetFaultAsync("local", """{"errorRate":1,"errorStatus":503}""");
        using var writer = service.CreateWriter();
        using var created = await writer.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { topic = "status page in a browser", complexity = "low" });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);

        // The page shows the logical name; the registry holds the per-host one.
        var history = wait.Until(d => Texts(d, "[data-breaker='llm-local'][data-state='open'] ol.history") is [var h] ? h : null);
        Assert.Contains("ConsecutiveFailures", history, StringComparison.Ordinal);
        Assert.Equal(CircuitState.Open, service.Services.GetRequiredService<CircuitBreakerRegistry>().GetOrAdd("llm-local:" + providers.BaseAddress.GetLeftPart(UriPartial.Authority)).State);
        Assert.Empty(Texts(browser.Driver, $"[data-breaker*='{providers.BaseAddress.Port}']"));
        wait.Until(d => Texts(d, "#costs tr[data-provider='budget']").Count > 0);
        Assert.StartsWith("computed", Assert.Single(Texts(browser.Driver, "#costs [data-costs-age]")), StringComparison.Ordinal);
        Assert.Empty(Texts(browser.Driver, "#costs tr[data-provider='local']"));
        Assert.StartsWith("1 circuit", Assert.Single(Texts(browser.Driver, "#overall")), StringComparison.Ordinal);

        // One row per dependency: the handler's retries are counted once, under the breaker's name.
        Assert.Single(Texts(browser.Driver, "#counters tr[data-metric='retries']"), static row => row.Contains("llm-local", StringComparison.Ordinal));
        Assert.NotEmpty(Texts(browser.Driver, "#pool svg.chart polyline.util"));
        Assert.Empty(browser.ConsoleErrors());
    }

    /// <summary>Regression: a failed ping was omitted from /status/data, the script called undefined.toFixed, and the page
    /// said "connection lost" while the pool card showed the last "Healthy" for the whole database outage.</summary>
    [BrowserFact]
    public async Task StatusPage_DatabaseDownAndProviderDown_PoolCardAndBannerTellTheTruth()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var providers = FakeProvidersServer.Start();
        var database = await TestDatabase.CreateAsync(server.ConnectionString);
        await using var service = new ContentServiceFactory(database, providers.BaseAddress, new Dictionary<string, string?>
        {
            ["StatusPage:RefreshInterval"] = "00:00:00.250",
            ["StatusPage:SampleInterval"] = "00:00:00.250",
            ["Database:PoolHealth:CheckInterval"] = "00:00:00.300",
            ["Database:PoolHealth:PingTimeout"] = "00:00:00.250",
            ["Database:PoolHealth:SlowPingThreshold"] = "00:00:00.200",
            ["Executor:PollInterval"] = "00:00:00.100",
        });
        service.UseKestrel(static o => o.Listen(IPAddress.Loopback, 0));
        service.StartServer();
        var baseAddress = new Uri(service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var browser = HeadlessChromium.Start();
        var wait = new WebDriverWait(browser.Driver, TimeSpan.FromSeconds(30)) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        browser.Driver.Navigate().GoToUrl(new Uri(baseAddress, "/status"));
        wait.Until(d => Texts(d, "#pool [data-pool-status='Healthy']").Count > 0);

        // A provider down: its breaker opens and the banner names it.
        await providers.SetFaultAsync("local", """{"outage":true}""");
        using (var writer = service.CreateWriter())
        using (var created = await writer.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { topic = "provider down", complexity = "low" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        }

        wait.Until(d => Texts(d, "[data-breaker='llm-local'][data-state='open']").Count > 0);
        Assert.Contains("llm-local", Assert.Single(Texts(browser.Driver, "#overall")), StringComparison.Ordinal);

        // The database down as well: the pool card turns Critical, the banner says so, and the page keeps refreshing.
        await server.PauseAsync();
        wait.Until(d => Texts(d, "#pool [data-pool-status='Critical']").Count > 0);
        var banner = Assert.Single(Texts(browser.Driver, "#overall"));
        Assert.Contains("database", banner, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("llm-local", banner, StringComparison.Ordinal);
        var updated = Assert.Single(Texts(browser.Driver, "#updated"));
        Assert.StartsWith("updated", updated, StringComparison.Ordinal);
        Assert.Contains("failed", Assert.Single(Texts(browser.Driver, "#pool [data-pool-status] dl")), StringComparison.Ordinal);

        // Back up: the card follows.
        await server.ResumeAsync();
        wait.Until(d => Texts(d, "#pool [data-pool-status='Healthy']").Count > 0);
        Assert.Empty(browser.ConsoleErrors());
    }

    /// <summary>The text of every element matching <paramref name="css"/>, read at one instant.</summary>
    [BrowserFact]
    public async Task StatusPage_Clustered_ShowsTheInstanceTheSharedBreakerAndTheClientsLimit_NoConsoleErrors()
    {
        await using var providers = FakeProvidersServer.Start();
        var database = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var service = new ContentServiceFactory(database, providers.BaseAddress, new Dictionary<string, string?>
        {
            ["StatusPage:RefreshInterval"] = "00:00:00.250",
            ["Executor:Workers"] = "0",
            ["Cluster:Enabled"] = "true",
            ["Cluster:InstanceId"] = "browser-1",
            ["Cluster:SyncInterval"] = "00:00:00.100",
            ["Cluster:LeaseTime"] = "00:00:01",
        });
        service.UseKestrel(static o => o.Listen(IPAddress.Loopback, 0));
        service.StartServer();
        var baseAddress = new Uri(service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var llm = service.Services.GetRequiredService<IHttpClientFactory>().CreateClient("llm-local");
        using var generated = await llm.PostAsJsonAsync(new Uri("generate", UriKind.Relative), new { prompt = "cluster" });
        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);
        using var writer = service.CreateWriter();
        using var listed = await writer.GetAsync(new Uri("/api/tasks", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        using var browser = HeadlessChromium.Start();
        var wait = new WebDriverWait(browser.Driver, TimeSpan.FromSeconds(60)) { PollingInterval = TimeSpan.FromMilliseconds(100) };

        browser.Driver.Navigate().GoToUrl(new Uri(baseAddress, "/status"));
        var instance = wait.Until(d => Texts(d, "#cluster tr[data-cluster-instance='browser-1']") is [var row] ? row : null);
        Assert.Contains("(this one)", instance, StringComparison.Ordinal);
        var breaker = wait.Until(d => Texts(d, "#cluster tr[data-shared-breaker='llm-local'][data-state='closed']") is [var row] ? row : null);
        Assert.Contains("closed", breaker, StringComparison.Ordinal);
        var limit = wait.Until(d => Texts(d, "#cluster tr[data-shared-limit^='api|key:']") is [var row] ? row : null);
        Assert.Contains("120 / 10 s", limit, StringComparison.Ordinal);
        Assert.Empty(browser.ConsoleErrors());
    }

    private static List<string> Texts(IWebDriver driver, string css) =>
        ((IReadOnlyCollection<object>)((IJavaScriptExecutor)driver).ExecuteScript(
            "return Array.from(document.querySelectorAll(arguments[0]), e => e.textContent);", css)!)
        .Select(static o => (string)o).ToList();
}
