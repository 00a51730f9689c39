using System.Net.Http.Json;
using ContentService.Errors;
using ContentService.Providers;
using ContentService.Security;
using Microsoft.Extensions.Options;

namespace ContentService.Images;

/// <summary><c>POST /api/images</c>: generate an image, admitted only when its GPU memory fits; <c>GET /api/images/capacity</c>.</summary>
internal static class ImageEndpoints
{
    public const string ClientName = "images";

    public static IServiceCollection AddImages(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ImageOptions>().Bind(configuration.GetSection(ImageOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ImageOptions>, ImageOptionsValidator>();
        services.AddSingleton<GpuAdmission>();
        services.AddHttpClient(ClientName, static (sp, client) =>
                client.BaseAddress = sp.GetRequiredService<IOptions<ProvidersOptions>>().Value.BaseUrl)
            .AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:" + ClientName));
        return services;
    }

    public static RouteGroupBuilder MapImages(this IEndpointRouteBuilder app)
    {
        var images = app.MapGroup("/api/images").WithTags("Images");

        images.MapPost("/", async (GenerateImageRequest? request, GpuAdmission gpu, IHttpClientFactory clients, CancellationToken ct) =>
        {
            var (prompt, width, height) = ImageRequestValidator.Validate(request);
            var units = GpuAdmission.UnitsFor(width, height);
            if (units > gpu.Capacity)
            {
                // Waiting cannot help: it would never fit.
                throw ApiException.Validation("width", $"A {width}×{height} image needs {units} GPU units; the image provider has {gpu.Capacity}.");
            }

            using var reservation = gpu.TryAdmit(units, out var retryAfter)
                ?? throw ApiException.CapacityExhausted($"Not enough GPU memory free for a {width}×{height} image ({units} units); try again later.", retryAfter);
            return Results.Ok(await GenerateAsync(clients, prompt, width, height, ct));
        })
        .RequireApiKey()
        .Produces<GeneratedImageResponse>()
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        images.MapGet("/capacity", (GpuAdmission gpu) => Results.Ok(gpu.Snapshot()))
            .Produces<GpuCapacityResponse>();
        return images;
    }

    private static async Task<GeneratedImageResponse> GenerateAsync(IHttpClientFactory clients, string prompt, int width, int height, CancellationToken ct)
    {
        var client = clients.CreateClient(ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("images/generate", UriKind.Relative))
        {
            Content = JsonContent.Create(new { prompt, width, height }),
        };

        // Generating again only costs GPU time, so a retried call is safe; the key says so to the handler.
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        try
        {
            using var response = await client.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw Unavailable(response.Headers.RetryAfter?.Delta, null);
            }

            return await response.Content.ReadFromJsonAsync<GeneratedImageResponse>(ct)
                ?? throw new InvalidDataException("The image provider answered without a body.");
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or Resilience.Http.HttpResilienceException or InvalidDataException or System.Text.Json.JsonException or TaskCanceledException)
        {
            throw Unavailable((e as Resilience.Http.HttpResilienceException)?.RetryAfter, e);
        }
    }

    private static UpstreamUnavailableException Unavailable(TimeSpan? retryAfter, Exception? cause) =>
        new(UpstreamUnavailableException.Images, "The image provider could not generate the image; try again later.", retryAfter, cause);
}
