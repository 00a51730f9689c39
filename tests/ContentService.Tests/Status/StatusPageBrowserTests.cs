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
    private const string ProviderClient = "llm-browser-test";

    [BrowserFact]
    public async Task StatusPage_ProviderFaultInjected_ShowsBreakerOpenWithNoConsoleErrors()
    {
        await using var providers = FakeProvidersServer.Start();
        var database = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var service = new ContentServiceFactory(database, providers.BaseAddress, new Dictionary<string, string?>
        {
            ["StatusPage:RefreshInterval"] = "00:00:00.250",
        })
        {
            ConfigureTestServices = static services => services.AddHttpClient(ProviderClient)
                .AddResilienceHttpHandler(static o => { o.MaxRetries = 0; o.FailureThreshold = 2; }),
        };
        service.UseKestrel(static o => o.Listen(IPAddress.Loopback, 0));
        service.StartServer();
        var baseAddress = new Uri(service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var browser = HeadlessChromium.Start();
        var wait = new WebDriverWait(browser.Driver, TimeSpan.FromSeconds(30)) { PollingInterval = TimeSpan.FromMilliseconds(100) };

        browser.Driver.Navigate().GoToUrl(new Uri(baseAddress, "/status"));
        wait.Until(static d => d.FindElements(By.CssSelector("body[data-loaded='true']")).Count > 0);
        var databaseCard = browser.Driver.FindElement(By.CssSelector("[data-breaker='content-db']"));
        Assert.Equal("closed", databaseCard.GetDomAttribute("data-state"));
        Assert.Equal("All systems normal", browser.Driver.FindElement(By.Id("overall")).Text);

        await providers.SetFaultAsync("llm-budget", """{"errorRate":1,"errorStatus":503}""");
        using var client = service.Services.GetRequiredService<IHttpClientFactory>().CreateClient(ProviderClient);
        var generate = new Uri(providers.BaseAddress, "llm/llm-budget/generate");
        for (var i = 0; i < 2; i++)
        {
            using var failed = await client.PostAsJsonAsync(generate, new { prompt = "status page" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }

        var breaker = $"{ProviderClient}:{providers.BaseAddress.GetLeftPart(UriPartial.Authority)}";
        Assert.Equal(CircuitState.Open, service.Services.GetRequiredService<CircuitBreakerRegistry>().GetOrAdd(breaker).State);
        var openCard = wait.Until(d => d.FindElements(By.CssSelector($"[data-breaker='{breaker}'][data-state='open']")).FirstOrDefault());
        Assert.Contains("ConsecutiveFailures", openCard!.FindElement(By.CssSelector("ol.history")).Text, StringComparison.Ordinal);
        Assert.Equal("1 circuit open", browser.Driver.FindElement(By.Id("overall")).Text);
        Assert.Contains(browser.Driver.FindElements(By.CssSelector("#pool svg.chart")), static chart => chart.Displayed);
        Assert.Empty(browser.ConsoleErrors());
    }
}
