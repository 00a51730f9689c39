using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using ContentService.Tests.Infrastructure;
using Resilience.Testing;

namespace ContentService.Tests.Metrics;

/// <summary><c>GET /metrics</c> scraped as Prometheus would (plain HTTP, text format): the library's meters and <c>api_errors_total{code}</c>.</summary>
// Meters are process-wide: another host recording or listening beside this one can hide what this scrape should show.
[Collection(ProcessWideTests.Name)]
public sealed partial class PrometheusTests(PostgresFixture postgres) : IAsyncLifetime
{
    private ServiceHarness _harness = null!;
    private ContentServiceFactory _service = null!;

    public async Task InitializeAsync()
    {
        _harness = await ServiceHarness.StartAsync(postgres.ConnectionString);
        _service = _harness.AddInstance(new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["Resilience:Http:cms-usage:BaseDelay"] = "00:00:00.010",
            ["Resilience:Http:cms-usage:MaxDelay"] = "00:00:00.050",
        });
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Scrape_CountsApiErrorsByErrorId_AndHasTheLibrarysMeters()
    {
        using var client = _service.CreateClient();
        var before = ApiErrors(await ScrapeAsync(client));
        (await Json.GetAsync(client, "/api/tasks/not-a-uuid")).Dispose();
        (await Json.GetAsync(client, "/api/tasks/not-a-uuid")).Dispose();
        (await Json.GetAsync(client, $"/api/tasks/{Guid.NewGuid()}")).Dispose();
        (await Json.GetAsync(client, "/no/such/route")).Dispose();
        await _harness.Providers.SetFaultAsync("cms", """{"errorRate":1,"errorStatus":503}""");
        (await Json.GetAsync(client, "/api/cms/usage")).Dispose();

        var scrape = await ScrapeAsync(client);
        var after = ApiErrors(scrape);

        // Other hosts in this process share the meter names, so counts are compared as increases of at least.
        Assert.True(Increase("ERR_VALIDATION") >= 2, scrape);
        Assert.True(Increase("ERR_NOT_FOUND") >= 2, scrape);
        Assert.True(Increase("ERR_UPSTREAM_UNAVAILABLE") >= 1, scrape);
        Assert.Contains("# TYPE api_errors_total counter", scrape, StringComparison.Ordinal);
        Assert.Matches(HandledByOutcome(), scrape);
        Assert.Matches(PipelineDuration(), scrape);

        double Increase(string code) => after.GetValueOrDefault(code) - before.GetValueOrDefault(code);
    }

    [Fact]
    public async Task Scrape_IsNeitherRateLimitedNorInTheOpenApiDocument()
    {
        using var client = _service.CreateClient();

        for (var i = 0; i < 130; i++)
        {
            using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var openApi = await (await Json.GetAsync(client, "/openapi/v1.json")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("\"/metrics\"", openApi, StringComparison.Ordinal);
    }

    internal static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return body;
    }

    /// <summary>The value of every <c>api_errors_total</c> series by its <c>code</c> label (summed over status).</summary>
    private static Dictionary<string, double> ApiErrors(string scrape)
    {
        var byCode = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match m in ApiErrorsLine().Matches(scrape))
        {
            var code = m.Groups["code"].Value;
            byCode[code] = byCode.GetValueOrDefault(code) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return byCode;
    }

    [GeneratedRegex("""^api_errors_total\{[^}]*\bcode="(?<code>[A-Z_]+)"[^}]*\} (?<value>[0-9.e+]+)""", RegexOptions.Multiline)]
    private static partial Regex ApiErrorsLine();

    [GeneratedRegex("""^resilience_http_handled_total\{[^}]*resilience_http_outcome="[a-z-]+"[^}]*\} [1-9]""", RegexOptions.Multiline)]
    private static partial Regex HandledByOutcome();

    [GeneratedRegex("""^resilience_pipeline_duration[a-z_]*_bucket\{""", RegexOptions.Multiline)]
    private static partial Regex PipelineDuration();
}
