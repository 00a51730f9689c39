using System.Net;
using System.Text.Json;

namespace ContentService.Tests.Infrastructure;

/// <summary>Asserts a response is RFC 9457 problem details with the expected status and error ID, and returns its body.</summary>
internal static class Problem
{
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, HttpStatusCode status, string errorId, string? field = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(errorId, json.GetProperty("errorId").GetString());
        Assert.Equal((int)status, json.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("traceId").GetString()));
        if (field is not null)
        {
            var actual = json.TryGetProperty("field", out var named) ? named.GetString() : null;
            Assert.True(field == actual, $"expected field '{field}', got '{actual}': {body}");
        }

        return json;
    }
}
