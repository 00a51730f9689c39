namespace Resilience.Http.Tests.Retries;

public sealed class HttpRetrySafetyTests
{
    [Theory]
    [InlineData("GET", true)]
    [InlineData("HEAD", true)]
    [InlineData("OPTIONS", true)]
    [InlineData("PUT", true)]
    [InlineData("DELETE", true)]
    [InlineData("TRACE", true)]
    [InlineData("POST", false)]
    [InlineData("PATCH", false)]
    [InlineData("CONNECT", false)]
    [InlineData("PURGE", false)]
    public void Evaluate_ByMethod_OnlyIdempotentMethodsAllowed(string method, bool allowed)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "http://example.test/");

        var permission = HttpRetrySafety.Evaluate(request, retryUnsafeMethods: false);

        Assert.Equal(allowed, permission.IsAllowed());
        Assert.Equal(allowed ? HttpRetryPermission.IdempotentMethod : HttpRetryPermission.DeniedUnsafeMethod, permission);
    }

    [Fact]
    public void Evaluate_PostWithIdempotencyKey_Allowed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://example.test/");
        request.Headers.Add("Idempotency-Key", "8e03978e-40d5-43e8-bc93-6894a57f9324");

        Assert.Equal(HttpRetryPermission.IdempotencyKey, HttpRetrySafety.Evaluate(request, retryUnsafeMethods: false));
    }

    [Fact]
    public void Evaluate_PatchWithBlankIdempotencyKey_Denied()
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, "http://example.test/");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", " ");

        Assert.Equal(HttpRetryPermission.DeniedUnsafeMethod, HttpRetrySafety.Evaluate(request, retryUnsafeMethods: false));
    }

    [Fact]
    public void Evaluate_PostWithClientOptIn_Allowed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://example.test/");

        Assert.Equal(HttpRetryPermission.AllowedByOptions, HttpRetrySafety.Evaluate(request, retryUnsafeMethods: true));
    }

    [Fact]
    public void Evaluate_PostWithPerRequestAllowRetry_Allowed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://example.test/");
        request.Options.Set(HttpResilienceRequestOptions.AllowRetry, true);

        Assert.Equal(HttpRetryPermission.AllowedByRequest, HttpRetrySafety.Evaluate(request, retryUnsafeMethods: false));
    }

    [Fact]
    public void Evaluate_GetWithPerRequestAllowRetryFalse_DeniedEvenWithClientOptIn()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://example.test/");
        request.Options.Set(HttpResilienceRequestOptions.AllowRetry, false);

        var permission = HttpRetrySafety.Evaluate(request, retryUnsafeMethods: true);

        Assert.Equal(HttpRetryPermission.DeniedByRequest, permission);
        Assert.False(permission.IsAllowed());
    }
}
