using System.Net.Http.Json;
using System.Text.Json;

namespace ContentService.Tests.Infrastructure;

internal static class Json
{
    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> GetAsync(HttpClient client, string path) => client.GetAsync(new Uri(path, UriKind.Relative));

    public static Task<HttpResponseMessage> DeleteAsync(HttpClient client, string path) => client.DeleteAsync(new Uri(path, UriKind.Relative));
}
