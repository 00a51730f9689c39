using System.Security.Cryptography;
using ContentService.Errors;
using ContentService.Hosting;
using ContentService.Providers;
using ContentService.Security;
using ContentService.Tasks;
using Microsoft.Extensions.Options;

namespace ContentService.Content;

/// <summary><c>/api/content</c>: list, get, replace the image (through the CMS), delete (in the CMS too).</summary>
internal static partial class ContentEndpoints
{
    private static readonly string[] ImageTypes = ["image/png", "image/jpeg", "image/webp", "image/svg+xml"];

    public static IServiceCollection AddContent(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ContentOptions>().Bind(configuration.GetSection(ContentOptions.Section))
            .Validate(static o => o.CleanupInterval >= TimeSpan.FromSeconds(1) && o.CleanupInterval <= TimeSpan.FromHours(1),
                "Content:CleanupInterval: must be between 00:00:01 and 01:00:00.")
            .ValidateOnStart();
        services.AddSingleton<ContentRepository>();
        services.AddSingleton<CmsDeletionQueue>();
        services.AddSingleton<CmsDeletionSweeper>();
        services.AddHostedService(static sp => sp.GetRequiredService<CmsDeletionSweeper>());
        return services;
    }

    public static RouteGroupBuilder MapContent(this IEndpointRouteBuilder app)
    {
        var content = app.MapGroup("/api/content").WithTags("Content");

        content.MapGet("/", async (string? page, string? pageSize, ContentRepository repository, CancellationToken ct) =>
            Results.Ok(await repository.ListAsync(TaskRequestValidator.ParsePage(page), TaskRequestValidator.ParsePageSize(pageSize), ct)))
        .WithReadDeadline()
        .Produces<ContentPage>();

        content.MapGet("/{id}", async (string id, ContentRepository repository, CancellationToken ct) =>
            await repository.GetAsync(TaskRequestValidator.ParseId(id), ct) is { } item ? Results.Ok(item) : throw ApiException.NotFound("Content"))
        .WithReadDeadline()
        .Produces<ContentResponse>()
        .ProducesProblem(StatusCodes.Status404NotFound);

        content.MapPost("/{id}/image", async (string id, HttpContext http, ContentRepository repository, CmsClient cms, CmsDeletionQueue deletions, ILoggerFactory logs, CancellationToken ct) =>
        {
            var contentId = TaskRequestValidator.ParseId(id);
            var type = http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
            if (type is null || Array.IndexOf(ImageTypes, type) < 0)
            {
                throw ApiException.Validation("Content-Type", $"The body must be an image: {string.Join(", ", ImageTypes)}.");
            }

            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, ct);
            if (buffer.Length == 0)
            {
                throw ApiException.Validation("body", "The image is empty.");
            }

            if (await repository.GetAsync(contentId, ct) is null)
            {
                throw ApiException.NotFound("Content");
            }

            // The key is derived from the content and the bytes: the same upload repeated stores one image in the CMS.
            var image = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
            var key = $"content-{contentId:N}-{Convert.ToHexStringLower(SHA256.HashData(image.Span))[..16]}";
            var imageId = await cms.UploadAsync(image, type, key, ct);
            (bool Found, string? OldImageId) replaced;
            try
            {
                replaced = await repository.ReplaceImageAsync(contentId, imageId, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Not recorded: the new upload would be unreferenced. Queue its delete if the database allows, else say so loudly.
                await DiscardUploadAsync(deletions, imageId, logs, e);
                throw;
            }

            if (!replaced.Found)
            {
                await DiscardUploadAsync(deletions, imageId, logs, null);
                throw ApiException.NotFound("Content");
            }

            if (replaced.OldImageId is { } old)
            {
                await deletions.TryDeleteAsync(old, CancellationToken.None);
            }

            return Results.Ok(await repository.GetAsync(contentId, ct));
        })
        .RequireApiKey()
        .WithMetadata(ImageBodyMetadata.Instance)
        .Produces<ContentResponse>()
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        content.MapDelete("/{id}", async (string id, ContentRepository repository, CmsDeletionQueue deletions, CancellationToken ct) =>
        {
            var contentId = TaskRequestValidator.ParseId(id);
            var (found, imageId) = await repository.DeleteAsync(contentId, ct);
            if (!found)
            {
                throw ApiException.NotFound("Content");
            }

            if (imageId is null || await deletions.TryDeleteAsync(imageId, CancellationToken.None))
            {
                return Results.Ok(new ContentDeleted(contentId, imageId, "done"));
            }

            // The CMS is down: the delete is queued (same transaction as the content's) and retried until it succeeds.
            return Results.Json(new ContentDeleted(contentId, imageId, "queued"), statusCode: StatusCodes.Status202Accepted);
        })
        .RequireApiKey()
        .Produces<ContentDeleted>()
        .Produces<ContentDeleted>(StatusCodes.Status202Accepted)
        .ProducesProblem(StatusCodes.Status404NotFound);

        return content;
    }

    private static async Task DiscardUploadAsync(CmsDeletionQueue deletions, string imageId, ILoggerFactory logs, Exception? cause)
    {
        try
        {
            await deletions.EnqueueAndTryAsync(imageId, "upload not recorded", CancellationToken.None);
        }
        catch (Exception e)
        {
            LogOrphan(logs.CreateLogger("ContentService.Content"), cause ?? e, imageId);
        }
    }

    [LoggerMessage(EventId = 1602, Level = LogLevel.Error, Message = "Image {ImageId} was uploaded to the CMS but could not be recorded or queued for deletion; delete it by hand")]
    private static partial void LogOrphan(ILogger logger, Exception exception, string imageId);
}
