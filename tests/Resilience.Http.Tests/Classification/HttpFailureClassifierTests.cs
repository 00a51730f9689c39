using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Resilience.Http.Tests.Classification;

public sealed class HttpFailureClassifierTests
{
    [Theory]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(200, false)]
    [InlineData(400, false)]
    [InlineData(404, false)]
    [InlineData(501, false)]
    public void IsTransient_Status(int status, bool expected) =>
        Assert.Equal(expected, HttpFailureClassifier.IsTransient((HttpStatusCode)status));

    [Fact]
    public async Task TryGetRetryAfter_RealServerHeaders_BothForms()
    {
        var now = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        await using var app = await StartServerAsync(now);
        using var client = new HttpClient { BaseAddress = app.Urls.Select(u => new Uri(u)).First() };

        using var seconds = await client.GetAsync(new Uri("/seconds", UriKind.Relative));
        using var date = await client.GetAsync(new Uri("/date", UriKind.Relative));
        using var past = await client.GetAsync(new Uri("/past", UriKind.Relative));
        using var none = await client.GetAsync(new Uri("/none", UriKind.Relative));

        Assert.True(HttpFailureClassifier.TryGetRetryAfter(seconds.Headers, now, out var d1));
        Assert.Equal(TimeSpan.FromSeconds(40), d1);
        Assert.True(HttpFailureClassifier.TryGetRetryAfter(date.Headers, now, out var d2));
        Assert.Equal(TimeSpan.FromSeconds(90), d2);
        Assert.True(HttpFailureClassifier.TryGetRetryAfter(past.Headers, now, out var d3));
        Assert.Equal(TimeSpan.Zero, d3);
        Assert.False(HttpFailureClassifier.TryGetRetryAfter(none.Headers, now, out _));
    }

    private static async Task<WebApplication> StartServerAsync(DateTimeOffset now)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/seconds", (HttpResponse r) => { r.Headers.RetryAfter = "40"; return Results.StatusCode(503); });
        app.MapGet("/date", (HttpResponse r) => { r.Headers.RetryAfter = now.AddSeconds(90).ToString("R"); return Results.StatusCode(429); });
        app.MapGet("/past", (HttpResponse r) => { r.Headers.RetryAfter = now.AddSeconds(-90).ToString("R"); return Results.StatusCode(503); });
        app.MapGet("/none", () => Results.StatusCode(503));
        await app.StartAsync();
        return app;
    }
}
