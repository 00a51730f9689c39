using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ContentService.Images;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Testing;

namespace ContentService.Tests.Images;

/// <summary><c>POST /api/images</c> against the fake GPU (16 units) on loopback: admitted when it fits, refused at once when it does not.</summary>
public sealed class ImageGenerationTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private ServiceHarness _harness = null!;
    private ContentServiceFactory _service = null!;

    public async Task InitializeAsync()
    {
        _harness = await ServiceHarness.StartAsync(postgres.ConnectionString);
        _service = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "0" });
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Generate_Fits_Returns200_AndTheUnitsAreFreeAgain()
    {
        using var client = _service.CreateWriter();

        var image = await Json.ReadAsync(await Json.PostAsync(client, "/api/images", new { prompt = "a lighthouse at dawn", width = 1024, height = 768 }));
        var capacity = await Json.ReadAsync(await Json.GetAsync(client, "/api/images/capacity"));

        Assert.Equal((1024, 768, 10), (image.GetProperty("width").GetInt32(), image.GetProperty("height").GetInt32(), image.GetProperty("gpuUnits").GetInt32()));
        Assert.Equal((16, 0), (capacity.GetProperty("capacityUnits").GetInt32(), capacity.GetProperty("inUseUnits").GetInt32()));
    }

    [Fact]
    public async Task Generate_DoesNotFitWhileAnotherRuns_RefusedAtOnceWith503AndRetryAfter_ProviderNeverAsked()
    {
        using var client = _service.CreateWriter();
        await _harness.Providers.SetFaultAsync("images", """{"hang":true}""");
        using var holdCancel = new CancellationTokenSource();
        var hold = Task.Run(() => PostAsync(client, new { prompt = "a long render", width = 1024, height = 1024 }, holdCancel.Token));
        await WaitForInUseAsync(12);
        var requestsBefore = await ProviderRequestsAsync(untilInUse: 12);

        using var refused = await Json.PostAsync(client, "/api/images", new { prompt = "a second render", width = 768, height = 768 });
        var requestsAfter = await ProviderRequestsAsync();
        await holdCancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hold);
        await WaitForInUseAsync(0);
        await _harness.Providers.ClearFaultsAsync();
        using var admitted = await Json.PostAsync(client, "/api/images", new { prompt = "a second render", width = 768, height = 768 });

        await Problem.AssertAsync(refused, HttpStatusCode.ServiceUnavailable, "ERR_CAPACITY_EXHAUSTED");
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } wait && wait > TimeSpan.Zero && wait <= TimeSpan.FromSeconds(20), $"Retry-After: {retryAfter}");
        Assert.Equal(requestsBefore, requestsAfter);
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [Fact]
    public async Task Generate_NeverFitsOrBadInput_Returns422NamingTheField()
    {
        using var client = _service.CreateWriter();
        using var anonymous = _service.CreateClient();

        using var tooBig = await Json.PostAsync(client, "/api/images", new { prompt = "a mural", width = 2048, height = 2048 });
        using var noPrompt = await Json.PostAsync(client, "/api/images", new { width = 512, height = 512 });
        using var oddSize = await Json.PostAsync(client, "/api/images", new { prompt = "a mural", width = 500, height = 512 });
        using var noKey = await Json.PostAsync(anonymous, "/api/images", new { prompt = "a mural" });

        await Problem.AssertAsync(tooBig, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "width");
        await Problem.AssertAsync(noPrompt, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "prompt");
        await Problem.AssertAsync(oddSize, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "width");
        await Problem.AssertAsync(noKey, HttpStatusCode.Unauthorized, "ERR_UNAUTHORIZED");
    }

    [Fact]
    public async Task FakeGpu_WithoutTheAdmissionCheck_RunsOutOfMemory()
    {
        // What the admission check prevents: the provider, asked for more than it has, fails the request.
        using var response = await Json.PostAsync(_harness.Providers.Client, "images/generate", new { prompt = "a mural", width = 2048, height = 2048 });

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("out of memory", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, object body, CancellationToken ct) =>
        await client.PostAsync(new Uri("/api/images", UriKind.Relative), System.Net.Http.Json.JsonContent.Create(body), ct);

    // Read from the service's own admission state (not over HTTP, where polling would meet the rate limit).
    private async Task WaitForInUseAsync(int units)
    {
        var gpu = _service.Services.GetRequiredService<GpuAdmission>();
        var limit = Stopwatch.StartNew();
        while (gpu.Snapshot().InUseUnits != units)
        {
            Assert.True(limit.Elapsed < TimeSpan.FromSeconds(20), $"GPU units in use: {gpu.Snapshot().InUseUnits}, expected {units}");
            await Task.Yield();
        }
    }

    /// <summary>How many generate requests reached the fake GPU, once it holds <paramref name="untilInUse"/> units (the held request arrived).</summary>
    private async Task<long> ProviderRequestsAsync(int? untilInUse = null)
    {
        var limit = Stopwatch.StartNew();
        while (true)
        {
            using var response = await _harness.Providers.Client.GetAsync(new Uri("images/capacity", UriKind.Relative));
            var gpu = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            if (untilInUse is not { } units || gpu.GetProperty("inUseUnits").GetInt32() == units)
            {
                return gpu.GetProperty("requests").GetInt64();
            }

            Assert.True(limit.Elapsed < TimeSpan.FromSeconds(20), $"the fake GPU holds {gpu.GetProperty("inUseUnits").GetInt32()} units, expected {units}");
        }
    }
}
