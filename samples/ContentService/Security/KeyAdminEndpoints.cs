using System.Security.Cryptography;
using System.Text;
using ContentService.Errors;
using ContentService.Tasks;
using Microsoft.Extensions.Options;

namespace ContentService.Security;

/// <summary>
/// <c>/admin/keys</c>, behind the admin key: list issued keys (never a secret), rotate one (the new secret is shown once;
/// the previous one works for <see cref="SecurityOptions.RotationGracePeriod"/>), revoke one (refused at once), and
/// read the audit log of key use. All state is in PostgreSQL, so every instance on the database agrees at once.
/// </summary>
internal static class KeyAdminEndpoints
{
    public static RouteGroupBuilder MapKeyAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").WithTags("Admin").AddEndpointFilter<AdminKeyFilter>().WithMetadata(RequiresAdminKeyMetadata.Instance);

        admin.MapGet("/keys", async (string? page, string? pageSize, ApiKeyStore keys, CancellationToken ct) =>
        {
            var query = TaskRequestValidator.ParseListQuery(null, page, pageSize);
            return Results.Ok(await keys.ListAsync(query.Page, query.PageSize, ct));
        })
        .Produces<IssuedKeyPage>();

        admin.MapPost("/keys/{id}/rotate", async (HttpContext http, string id, ApiKeyStore keys, IOptions<SecurityOptions> options, CancellationToken ct) =>
        {
            var (rotated, refusal) = await keys.RotateAsync(TaskRequestValidator.ParseId(id), options.Value.RotationGracePeriod, ct);
            http.Response.Headers.CacheControl = "no-store";
            return rotated is not null ? Results.Ok(rotated) : throw Refused(refusal);
        })
        .Produces<RotatedKey>()
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        admin.MapPost("/keys/{id}/revoke", async (string id, ApiKeyStore keys, CancellationToken ct) =>
            await keys.RevokeAsync(TaskRequestValidator.ParseId(id), ct) ? Results.NoContent() : throw ApiException.NotFound("API key"))
        .Produces(StatusCodes.Status204NoContent)
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        admin.MapGet("/usage", async (string? keyId, string? limit, ApiKeyAudit audit, CancellationToken ct) =>
        {
            var rows = 1000;
            if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out rows) || rows is < 1 or > 10_000))
            {
                throw ApiException.Validation("limit", "limit must be an integer from 1 to 10000.");
            }

            if (keyId is { Length: > 64 })
            {
                throw ApiException.Validation("keyId", "keyId is at most 64 characters.");
            }

            return Results.Ok(await audit.ReadAsync(keyId, rows, ct));
        })
        .Produces<IReadOnlyList<KeyUsage>>()
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return admin;
    }

    private static ApiException Refused(RotateRefusal refusal) => refusal switch
    {
        RotateRefusal.Revoked => ApiException.InvalidState("The key is revoked; a revoked key is not rotated."),
        RotateRefusal.Expired => ApiException.InvalidState("The key has expired; an expired key is not rotated."),
        _ => ApiException.NotFound("API key"),
    };
}

/// <summary>Lets the admin endpoints through only with <see cref="SecurityOptions.AdminKey"/> in <c>X-Admin-Key</c>.</summary>
internal sealed partial class AdminKeyFilter(IOptions<SecurityOptions> options, ILogger<AdminKeyFilter> logger) : IEndpointFilter
{
    public const string HeaderName = "X-Admin-Key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = options.Value.AdminKey;
        var http = context.HttpContext;
        if (string.IsNullOrEmpty(expected))
        {
            throw new ApiException(StatusCodes.Status503ServiceUnavailable, ServiceErrorIds.AdminNotConfigured,
                "Key administration is not configured: set Security__AdminKey.");
        }

        var presented = http.Request.Headers[HeaderName].ToString();

        // Compared as hashes in fixed time: the comparison leaks neither the key's length nor its prefix.
        if (presented.Length == 0
            || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
        {
            LogRejected(logger, http.Request.Method, http.Request.Path.Value ?? "/");
            http.Response.Headers.WWWAuthenticate = "ApiKey header=\"" + HeaderName + "\"";
            throw new ApiException(StatusCodes.Status401Unauthorized, ServiceErrorIds.Unauthorized,
                presented.Length == 0 ? $"The admin key is required ({HeaderName} header)." : "The admin key is not valid.");
        }

        return await next(context);
    }

    [LoggerMessage(EventId = 1211, Level = LogLevel.Warning, Message = "Admin request rejected: {Method} {Path} (admin key missing or wrong)")]
    private static partial void LogRejected(ILogger logger, string method, string path);
}

/// <summary>Endpoint metadata: the endpoint needs the admin key (the OpenAPI document lists its security requirement).</summary>
internal sealed class RequiresAdminKeyMetadata
{
    public static readonly RequiresAdminKeyMetadata Instance = new();
}
