using System.Net;
using System.Net.Http.Headers;
using ContentService.Content;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Testing;

namespace ContentService.Tests.Content;

public sealed class ContentApiTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private ServiceHarness _harness = null!;
    private ContentServiceFactory _service = null!;

    public async Task InitializeAsync()
    {
        _harness = await ServiceHarness.StartAsync(postgres.ConnectionString);
        _service = _harness.AddInstance();
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task ListAndGet_PublishedContent_WithBodyAndImage()
    {
        var contentId = await PublishAsync("Listing content");
        using var client = _service.CreateClient();

        using var list = await Json.GetAsync(client, "/api/content?pageSize=10");
        using var get = await Json.GetAsync(client, $"/api/content/{contentId}");
        var listed = await Json.ReadAsync(list);
        var item = await Json.ReadAsync(get);

        Assert.Equal(contentId, Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        Assert.Equal(1, listed.GetProperty("total").GetInt64());
        Assert.Contains("Listing content", item.GetProperty("body").GetString(), StringComparison.Ordinal);
        Assert.True(await ImageExistsAsync(item.GetProperty("imageId").GetString()!));
    }

    [Fact]
    public async Task Get_MalformedId_Returns422_UnknownId_Returns404()
    {
        using var client = _service.CreateClient();

        using var malformed = await Json.GetAsync(client, "/api/content/42");
        using var unknown = await Json.GetAsync(client, $"/api/content/{Guid.NewGuid()}");

        await Problem.AssertAsync(malformed, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "id");
        await Problem.AssertAsync(unknown, HttpStatusCode.NotFound, "ERR_NOT_FOUND");
    }

    [Fact]
    public async Task UploadImage_ReplacesTheImageThroughTheCms_AndDeletesTheOldOne()
    {
        var contentId = await PublishAsync("New picture");
        using var client = _service.CreateWriter();
        var oldImage = (await Json.ReadAsync(await Json.GetAsync(client, $"/api/content/{contentId}"))).GetProperty("imageId").GetString()!;

        using var response = await UploadAsync(client, contentId, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3], "image/png");
        var updated = await Json.ReadAsync(response);
        var newImage = updated.GetProperty("imageId").GetString()!;

        Assert.NotEqual(oldImage, newImage);
        Assert.True(await ImageExistsAsync(newImage));
        Assert.False(await ImageExistsAsync(oldImage));
        Assert.Equal(0L, await _harness.ScalarAsync<long>("SELECT count(*) FROM cms_pending_deletes"));
    }

    [Fact]
    public async Task UploadImage_BadTypeOrUnknownContentOrNoKey_IsRejected()
    {
        var contentId = await PublishAsync("Rejected pictures");
        using var writer = _service.CreateWriter();
        using var anonymous = _service.CreateClient();

        using var badType = await UploadAsync(writer, contentId, [1, 2, 3], "text/plain");
        using var unknown = await UploadAsync(writer, Guid.NewGuid(), [1, 2, 3], "image/png");
        using var noKey = await UploadAsync(anonymous, contentId, [1, 2, 3], "image/png");

        await Problem.AssertAsync(badType, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "Content-Type");
        await Problem.AssertAsync(unknown, HttpStatusCode.NotFound, "ERR_NOT_FOUND");
        await Problem.AssertAsync(noKey, HttpStatusCode.Unauthorized, "ERR_UNAUTHORIZED");
    }

    [Fact]
    public async Task UploadImage_OverTheImageLimit_Returns413_WithinIt_IsAcceptedAboveTheJsonLimit()
    {
        var contentId = await PublishAsync("Big pictures");
        using var client = _service.CreateWriter();

        using var tooBig = await UploadAsync(client, contentId, new byte[(2 * 1024 * 1024) + 1], "image/png");
        using var large = await UploadAsync(client, contentId, new byte[512 * 1024], "image/png");

        await Problem.AssertAsync(tooBig, HttpStatusCode.RequestEntityTooLarge, "ERR_PAYLOAD_TOO_LARGE");
        Assert.Equal(HttpStatusCode.OK, large.StatusCode);
    }

    [Fact]
    public async Task UploadImage_CmsDown_Returns503UpstreamUnavailable_ContentKeepsItsImage()
    {
        var contentId = await PublishAsync("CMS outage upload");
        using var client = _service.CreateWriter();
        var before = (await Json.ReadAsync(await Json.GetAsync(client, $"/api/content/{contentId}"))).GetProperty("imageId").GetString();
        await _harness.Providers.SetFaultAsync("cms", """{"outage":true}""");

        using var response = await UploadAsync(client, contentId, [1, 2, 3], "image/png");

        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "ERR_UPSTREAM_UNAVAILABLE");
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(before, await _harness.ScalarAsync<string>("SELECT image_id FROM content WHERE id = $1", contentId));
    }

    [Fact]
    public async Task Delete_RemovesContentAndItsImageInTheCms()
    {
        var contentId = await PublishAsync("Delete me");
        using var client = _service.CreateWriter();
        var imageId = (await Json.ReadAsync(await Json.GetAsync(client, $"/api/content/{contentId}"))).GetProperty("imageId").GetString()!;

        using var deleted = await Json.DeleteAsync(client, $"/api/content/{contentId}");
        using var again = await Json.DeleteAsync(client, $"/api/content/{contentId}");

        Assert.Equal("done", (await Json.ReadAsync(deleted)).GetProperty("imageDeletion").GetString());
        Assert.False(await ImageExistsAsync(imageId));
        await Problem.AssertAsync(again, HttpStatusCode.NotFound, "ERR_NOT_FOUND");
    }

    [Fact]
    public async Task Delete_CmsDown_QueuesTheImageDelete_TheSweeperFinishesItWhenTheCmsIsBack()
    {
        var contentId = await PublishAsync("Delete during an outage");
        using var client = _service.CreateWriter();
        var imageId = (await Json.ReadAsync(await Json.GetAsync(client, $"/api/content/{contentId}"))).GetProperty("imageId").GetString()!;
        await _harness.Providers.SetFaultAsync("cms", """{"errorRate":1,"errorStatus":503}""");

        using var deleted = await Json.DeleteAsync(client, $"/api/content/{contentId}");
        var queued = await _harness.ScalarAsync<long>("SELECT count(*) FROM cms_pending_deletes WHERE image_id = $1", imageId);
        await _harness.Providers.ClearFaultsAsync();
        await _harness.ScalarAsync<int>("UPDATE cms_pending_deletes SET next_attempt_at = now() RETURNING 1");
        var swept = await _service.Services.GetRequiredService<CmsDeletionSweeper>().SweepAsync(CancellationToken.None);

        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        Assert.Equal("queued", (await Json.ReadAsync(deleted)).GetProperty("imageDeletion").GetString());
        Assert.Equal(1L, queued);
        Assert.Equal(1, swept);
        Assert.False(await ImageExistsAsync(imageId));
        Assert.Equal(0L, await _harness.ScalarAsync<long>("SELECT count(*) FROM cms_pending_deletes"));
    }

    private async Task<Guid> PublishAsync(string topic)
    {
        var id = await ServiceHarness.CreateTaskAsync(_service, new { topic });
        return (await _harness.WaitForStatusAsync(id, "completed")).ContentId!.Value;
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, Guid contentId, byte[] image, string contentType)
    {
        using var content = new ByteArrayContent(image);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return await client.PostAsync(new Uri($"/api/content/{contentId}/image", UriKind.Relative), content);
    }

    private async Task<bool> ImageExistsAsync(string imageId)
    {
        using var response = await _harness.Providers.Client.GetAsync(new Uri($"cms/images/{imageId}", UriKind.Relative));
        return response.StatusCode == HttpStatusCode.OK;
    }
}
