using System.Net;
using System.Threading.Channels;
using ContentService.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Testing;

namespace ContentService.Tests.Metrics;

/// <summary>A real Prometheus scrapes the service on Kestrel and answers PromQL over what it scraped.</summary>
// Meters are process-wide: another host recording or listening beside this one can hide what this scrape should show.
[Collection(ProcessWideTests.Name)]
public sealed class PrometheusServerTests(PostgresFixture postgres)
{
    [PrometheusFact]
    public async Task Prometheus_ScrapesTheService_AndAnswersAQueryOnApiErrorsByCode()
    {
        var scrapes = Channel.CreateUnbounded<bool>();
        var database = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var service = new ContentServiceFactory(database, settings: new Dictionary<string, string?> { ["Executor:Workers"] = "0" })
        {
            ConfigureTestServices = s => s.AddSingleton<IStartupFilter>(new ScrapeSignal(scrapes.Writer)),
        };
        service.UseKestrel(static o => o.Listen(IPAddress.Loopback, 0));
        service.StartServer();
        var address = new Uri(service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        await using var prometheus = PrometheusServer.Start(address, "content");
        using var client = new HttpClient { BaseAddress = address };
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await scrapes.Reader.ReadAsync(limit.Token);

        for (var i = 0; i < 3; i++)
        {
            (await client.GetAsync(new Uri("/api/tasks/not-a-uuid", UriKind.Relative))).Dispose();
        }

        // The first scrape that starts now reads the three errors; once the next one starts, Prometheus has stored it.
        await DrainAsync(scrapes.Reader);
        await scrapes.Reader.ReadAsync(limit.Token);
        await scrapes.Reader.ReadAsync(limit.Token);
        var validation = await prometheus.QueryAsync("""sum(api_errors_total{job="content",code="ERR_VALIDATION"})""");
        var up = await prometheus.QueryAsync("""up{job="content"}""");
        var librarySeries = await prometheus.QueryAsync("""count({job="content",__name__=~"resilience_.+"})""");

        // Other hosts in this process share the meter names, so at least three.
        Assert.True(Assert.Single(validation) >= 3, $"api_errors_total ERR_VALIDATION = {validation[0]}");
        Assert.Equal(1, Assert.Single(up));
        Assert.True(Assert.Single(librarySeries) > 0);
    }

    private static async Task DrainAsync(ChannelReader<bool> reader)
    {
        while (reader.TryRead(out _))
        {
            await Task.Yield();
        }
    }

    /// <summary>Tells the test when a scrape of /metrics starts (Prometheus scrapes one at a time, appending each before the next).</summary>
    private sealed class ScrapeSignal(ChannelWriter<bool> scrapes) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (http, following) =>
            {
                if (http.Request.Path == "/metrics")
                {
                    scrapes.TryWrite(true);
                }

                await following(http);
            });
            next(app);
        };
    }
}
