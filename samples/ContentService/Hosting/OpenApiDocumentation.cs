using System.Text.Json.Nodes;
using ContentService.Security;
using ContentService.Tasks;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ContentService.Hosting;

/// <summary>Endpoint metadata: the endpoint reads an optional <c>Idempotency-Key</c> header.</summary>
internal sealed class IdempotencyKeyMetadata
{
    public static readonly IdempotencyKeyMetadata Instance = new();
}

/// <summary>
/// Fills in what the generated OpenAPI document cannot see, so a client can be generated from it: the two ways to send
/// an API key, which operations need one, the Idempotency-Key header, paging parameters as integers (the handlers take
/// strings so a bad value is a 422 naming it), the rejections every operation may get (401, 413, 422, 429, 503), the
/// task request's rules (the record's fields are nullable so that a missing one is a 422 naming it, not a binding error),
/// and the health endpoints (mapped as health checks, outside the API explorer).
/// </summary>
internal static class OpenApiDocumentation
{
    public const string ApiKeyScheme = "ApiKey";
    public const string BearerScheme = "Bearer";
    public const string AdminKeyScheme = "AdminKey";

    public static void Configure(OpenApiOptions options)
    {
        options.AddSchemaTransformer(static (schema, context, _) =>
        {
            if (context.JsonTypeInfo.Type == typeof(CreateTaskRequest) && schema.Properties is { } properties)
            {
                schema.Required = new HashSet<string> { "topic" };
                Constrain(properties, "topic", static s => (s.MinLength, s.MaxLength) = (3, 500));
                Constrain(properties, "targetLength", static s => (s.Minimum, s.Maximum) = ("50", "5000"));
                Constrain(properties, "style", static s => s.Enum = [.. TaskRequestValidator.Styles.Select(static v => (JsonNode)JsonValue.Create(v))]);
                Constrain(properties, "complexity", static s => s.Enum = [.. TaskRequestValidator.Complexities.Select(static v => (JsonNode)JsonValue.Create(v))]);
            }
            else if (context.JsonTypeInfo.Type == typeof(Images.GenerateImageRequest) && schema.Properties is { } image)
            {
                schema.Required = new HashSet<string> { "prompt" };
                Constrain(image, "prompt", static s => (s.MinLength, s.MaxLength) = (3, 1000));
                Constrain(image, "width", static s => (s.Minimum, s.Maximum, s.MultipleOf) = ($"{Images.ImageRequestValidator.MinSide}", $"{Images.ImageRequestValidator.MaxSide}", 64));
                Constrain(image, "height", static s => (s.Minimum, s.Maximum, s.MultipleOf) = ($"{Images.ImageRequestValidator.MinSide}", $"{Images.ImageRequestValidator.MaxSide}", 64));
            }

            return Task.CompletedTask;
        });

        options.AddDocumentTransformer(static (document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyIdentityFeature.HeaderName,
                Description = "An API key (configured, or issued by /auth/callback).",
            };
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The same API key as a bearer token.",
            };
            document.Components.SecuritySchemes[AdminKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = AdminKeyFilter.HeaderName,
                Description = "The admin key (Security__AdminKey) for /admin: list, rotate and revoke issued keys, read their audit log.",
            };
            AddHealth(document, "/health/live", "Liveness: 200 while the process serves requests; never rate limited.", withUnavailable: false);
            AddHealth(document, "/health/ready", "Readiness: pool health and every circuit breaker; 503 when the database's or every provider's breaker is open.", withUnavailable: true);
            return Task.CompletedTask;
        });

        options.AddOperationTransformer(static (operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            var path = context.Description.RelativePath ?? string.Empty;
            operation.Responses ??= new OpenApiResponses();
            if (metadata.OfType<RequiresApiKeyMetadata>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] });
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
                AddProblem(operation, "401", "No API key, or one that is unknown or expired (ERR_UNAUTHORIZED).");
            }

            if (metadata.OfType<RequiresAdminKeyMetadata>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(AdminKeyScheme, context.Document)] = [] });
                AddProblem(operation, "401", "No admin key, or a wrong one (ERR_UNAUTHORIZED).");
                AddProblem(operation, "503", "Key administration is not configured (ERR_ADMIN_NOT_CONFIGURED), or the database is unavailable (ERR_DB_UNAVAILABLE); Retry-After.");
            }

            if (metadata.OfType<IdempotencyKeyMetadata>().Any())
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = "Idempotency-Key",
                    In = ParameterLocation.Header,
                    Required = false,
                    Description = "Repeating a request with the same key and body returns the same task (200); another body is 409.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 200 },
                });
            }

            foreach (var parameter in operation.Parameters ?? [])
            {
                if (parameter is OpenApiParameter { Name: "page" or "pageSize" } paging)
                {
                    paging.Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Integer,
                        Format = "int32",
                        Minimum = "1",
                        Maximum = paging.Name == "page" ? "100000" : "100",
                    };
                }
            }

            if (operation.RequestBody is not null)
            {
                AddProblem(operation, "413", "The body is larger than the endpoint accepts (ERR_PAYLOAD_TOO_LARGE).");
            }

            // A path or query value of the wrong shape (an id that is not one) is refused before anything runs.
            if (operation.Parameters?.Any(static p => p.In is ParameterLocation.Path or ParameterLocation.Query) == true)
            {
                AddProblem(operation, "422", "A parameter is malformed (ERR_VALIDATION; the problem's field names it).");
            }

            AddProblem(operation, "429", "Rate limited (ERR_RATE_LIMITED); Retry-After says when to try again.");
            if (path.StartsWith("auth/", StringComparison.Ordinal))
            {
                AddProblem(operation, "503", "Sign-in is not configured, or the sign-in provider is unavailable (ERR_UPSTREAM_UNAVAILABLE); Retry-After.");
            }
            else if (path.StartsWith("api/", StringComparison.Ordinal))
            {
                AddProblem(operation, "503", "A dependency is unavailable (ERR_DB_UNAVAILABLE, ERR_UPSTREAM_UNAVAILABLE, ERR_UNKNOWN_OUTCOME); Retry-After.");
            }

            return Task.CompletedTask;
        });
    }

    private static void AddProblem(OpenApiOperation operation, string status, string description) =>
        operation.Responses!.TryAdd(status, new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() },
        });

    private static void AddHealth(OpenApiDocument document, string path, string description, bool withUnavailable)
    {
        var operation = new OpenApiOperation
        {
            Summary = description,
            OperationId = path == "/health/live" ? "Live" : "Ready",
            Tags = new HashSet<OpenApiTagReference> { new("Health", document) },
            Responses = new OpenApiResponses { ["200"] = new OpenApiResponse { Description = "Healthy or degraded." } },
        };
        if (withUnavailable)
        {
            operation.Responses["503"] = new OpenApiResponse { Description = "Not ready." };
        }

        document.Paths ??= new OpenApiPaths();
        document.Paths[path] = new OpenApiPathItem { Operations = new() { [HttpMethod.Get] = operation } };
    }

    private static void Constrain(IDictionary<string, IOpenApiSchema> properties, string name, Action<OpenApiSchema> rule)
    {
        if (properties.TryGetValue(name, out var property) && property is OpenApiSchema schema)
        {
            rule(schema);
        }
    }
}
