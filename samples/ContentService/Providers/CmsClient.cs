using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Resilience.Http;

namespace ContentService.Providers;

/// <summary>The image CMS through Resilience.Http: uploads carry an Idempotency-Key (so a retried upload never duplicates), deletes are idempotent.</summary>
internal sealed class CmsClient(IHttpClientFactory clients)
{
    public const string ClientName = "cms";

    public async Task<string> UploadAsync(ReadOnlyMemory<byte> image, string contentType, string idempotencyKey, CancellationToken ct)
    {
        var client = clients.CreateClient(ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("cms/images", UriKind.Relative)) { Content = new ReadOnlyMemoryContent(image) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await client.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw Unavailable("upload", response);
        }

        var uploaded = await response.Content.ReadFromJsonAsync<CmsImage>(ct);
        return uploaded?.Id is { Length: > 0 } id ? id : throw new InvalidDataException("The CMS answered an upload without an image id.");
    }

    /// <summary>Deletes the image; an image the CMS no longer has counts as deleted.</summary>
    public async Task DeleteAsync(string imageId, CancellationToken ct)
    {
        var client = clients.CreateClient(ClientName);
        using var response = await client.DeleteAsync(new Uri("cms/images/" + Uri.EscapeDataString(imageId), UriKind.Relative), ct);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
        {
            throw Unavailable("delete", response);
        }
    }

    private static UpstreamUnavailableException Unavailable(string operation, HttpResponseMessage response) => new(
        UpstreamUnavailableException.Cms,
        string.Create(CultureInfo.InvariantCulture, $"The image CMS could not {operation} the image ({(int)response.StatusCode}{Marker(response)}); try again later."),
        response.Headers.RetryAfter?.Delta);

    private static string Marker(HttpResponseMessage response) =>
        HttpResilienceResponse.GetOutcome(response) is var o && o != HttpResilienceOutcome.None ? ", " + o : "";

    private sealed record CmsImage(string? Id);
}
