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
[Collection(PostgresTests.Name)]
public sealed class StatusPageBrowserTests(PostgresFixture postgres)
{
    [BrowserFact]
    public async Task StatusPage_CheapestProviderFaulted_ShowsItsBreakerOpenAndTheNextProviderCosting_NoConsoleErrors()
    {
        await using var providers = FakeProvidersServer.Start();
        var database = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var service = new ContentServiceFactory(database, providers.BaseAddress, new Dictionary<string, string?>
        {
            ["StatusPage:RefreshInterval"] = "00:00:00.250",
            ["StatusPage:CostCacheDuration"] = "00:00:00",
        });
        service.UseKestrel(static o => o.Listen(IPAddress.Loopback, 0));
        service.StartServer();
        var baseAddress = new Uri(service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var browser = HeadlessChromium.Start();
        var wait = new WebDriverWait(browser.Driver, TimeSpan.FromSeconds(60)) { PollingInterval = TimeSpan.FromMilliseconds(100) };

        browser.Driver.Navigate().GoToUrl(new Uri(baseAddress, "/status"));
        wait.Until(static d => d.FindElements(By.CssSelector("body[data-loaded='true']")).Count > 0);
        Assert.Equal("closed", browser.Driver.FindElement(By.CssSelector("[data-breaker='content-db']")).GetDomAttribute("data-state"));
        Assert.Equal("All systems normal", browser.Driver.FindElement(By.Id("overall")).Text);

        // The cheapest provider fails every call: a low-complexity task tries it first, its breaker opens, budget takes over.
        await providers.SetFaultAsync("local", """{"errorRate":1,"errorStatus":503}""");
        using var writer = service.CreateWriter();
        using var created = await writer.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { topic = "status page in a browser", complexity = "low" });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);

        var breaker = "llm-local:" + providers.BaseAddress.GetLeftPart(UriPartial.Authority);
        var openCard = wait.Until(d => d.FindElements(By.CssSelector($"[data-breaker='{breaker}'][data-state='open']")).FirstOrDefault());
        Assert.Contains("ConsecutiveFailures", openCard!.FindElement(By.CssSelector("ol.history")).Text, StringComparison.Ordinal);
        Assert.Equal(CircuitState.Open, service.Services.GetRequiredService<CircuitBreakerRegistry>().GetOrAdd(breaker).State);
        wait.Until(static d => d.FindElements(By.CssSelector("#costs tr[data-provider='budget']")).Count > 0);
        Assert.Empty(browser.Driver.FindElements(By.CssSelector("#costs tr[data-provider='local']")));
        Assert.StartsWith("1 circuit", browser.Driver.FindElement(By.Id("overall")).Text, StringComparison.Ordinal);
        Assert.Contains(browser.Driver.FindElements(By.CssSelector("#counters tr[data-metric='retries']")), static row => row.Text.Contains("llm-local", StringComparison.Ordinal));
        Assert.Contains(browser.Driver.FindElements(By.CssSelector("#pool svg.chart")), static chart => chart.Displayed);
        Assert.Empty(browser.ConsoleErrors());
    }
}
