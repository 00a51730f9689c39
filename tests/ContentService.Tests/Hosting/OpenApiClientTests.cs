using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ContentService.Tests.Infrastructure;
using Microsoft.OpenApi;
using Resilience.Testing;

namespace ContentService.Tests.Hosting;

/// <summary>
/// A client generated from the OpenAPI document at run time: every operation is called the way the document says
/// (its path and query parameters filled from their schemas, a JSON body built from the request schema's required
/// properties, the API key when the operation declares security), and every answer must be a status the document lists
/// for that operation. An endpoint the document describes wrongly (a missing parameter, an undocumented answer) fails here.
/// </summary>
public sealed class OpenApiClientTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    // Operations whose call needs state the document cannot describe (an OAuth round trip, a long-lived stream, a
    // WebSocket upgrade, the admin key): the document still lists them, and their own tests call them.
    private static readonly string[] CalledElsewhere = ["/auth/callback", "/api/tasks/{id}/events", "/ws", "/metrics"];

    [Fact]
    public async Task EveryOperation_CalledAsTheDocumentDescribes_AnswersADocumentedStatus()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?> { ["Executor:Workers"] = "0" });
        using var client = factory.CreateClient();
        using var writer = factory.CreateWriter();
        var document = await LoadAsync(client);

        var called = new List<string>();
        var undocumented = new List<string>();
        foreach (var (path, item) in document.Paths)
        {
            if (Array.IndexOf(CalledElsewhere, path) >= 0 || path.StartsWith("/admin", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var (method, operation) in item.Operations ?? [])
            {
                using var request = Build(method, path, operation, item.Parameters);
                var secured = operation.Security is { Count: > 0 };
                using var response = await (secured ? writer : client).SendAsync(request);
                var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                called.Add($"{method} {path} → {status}");
                if (operation.Responses is not { } responses || !(responses.ContainsKey(status) || responses.ContainsKey("default")))
                {
                    undocumented.Add($"{method} {path} answered {status}, documented: {string.Join(", ", operation.Responses?.Keys.ToArray() ?? [])}");
                }
            }
        }

        Assert.True(called.Count >= 10, "too few operations called: " + string.Join("; ", called));
        Assert.True(undocumented.Count == 0, string.Join("\n", undocumented));

        // The client really is one: the main write, built from the document alone, is accepted, and the lists answer.
        foreach (var expected in new[] { "POST /api/tasks → 202", "GET /api/tasks → 200", "GET /api/content → 200" })
        {
            Assert.Contains(expected, called);
        }
    }

    private static async Task<OpenApiDocument> LoadAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync();
        var read = await OpenApiDocument.LoadAsync(stream, "json");
        Assert.Empty(read.Diagnostic?.Errors ?? []);
        return read.Document!;
    }

    private static HttpRequestMessage Build(HttpMethod method, string path, OpenApiOperation operation, IList<IOpenApiParameter>? shared)
    {
        var query = new StringBuilder();
        var headers = new List<(string Name, string Value)>();
        foreach (var parameter in (shared ?? []).Concat(operation.Parameters ?? []))
        {
            var value = SampleValue(parameter.Schema, parameter.Name!);
            switch (parameter.In)
            {
                case ParameterLocation.Path:
                    path = path.Replace("{" + parameter.Name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal);
                    break;
                case ParameterLocation.Query when parameter.Required:
                    query.Append(query.Length == 0 ? '?' : '&').Append(Uri.EscapeDataString(parameter.Name!)).Append('=').Append(Uri.EscapeDataString(value));
                    break;
                case ParameterLocation.Header when parameter.Required || parameter.Name == "Idempotency-Key":
                    headers.Add((parameter.Name!, parameter.Name == "Idempotency-Key" ? Guid.NewGuid().ToString("N") : value));
                    break;
            }
        }

        var request = new HttpRequestMessage(method, new Uri(path + query, UriKind.Relative));
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (operation.RequestBody?.Content is { } content && content.TryGetValue("application/json", out var json))
        {
            request.Content = new StringContent(SampleJson(json.Schema, depth: 0)?.ToJsonString() ?? "{}", Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>A value the schema accepts: its example or default, its first enum value, its minimum, or one of its type.</summary>
    private static string SampleValue(IOpenApiSchema? schema, string name)
    {
        // An id the schema only types as a string: a well-formed one that exists nowhere (404 is documented).
        if (name == "id" && schema is { Format: null, Enum: null or { Count: 0 } })
        {
            return Guid.NewGuid().ToString();
        }

        if (SampleJson(schema, depth: 0) is JsonValue value)
        {
            return value.ToString();
        }

        return name.Contains("id", StringComparison.OrdinalIgnoreCase) ? Guid.NewGuid().ToString() : "sample";
    }

    private static JsonNode? SampleJson(IOpenApiSchema? schema, int depth)
    {
        if (schema is null || depth > 4)
        {
            return null;
        }

        // A nullable body or property is "oneOf: [null, the type]": a client sends the type.
        foreach (var alternative in (schema.OneOf ?? []).Concat(schema.AnyOf ?? []))
        {
            if (alternative.Type != JsonSchemaType.Null)
            {
                return SampleJson(alternative, depth + 1);
            }
        }

        if (schema.Examples is { Count: > 0 } examples && examples[0] is { } example)
        {
            return example.DeepClone();
        }

        if (schema.Default is { } fallback)
        {
            return fallback.DeepClone();
        }

        if (schema.Enum is { Count: > 0 } values)
        {
            return values[0]?.DeepClone();
        }

        var type = schema.Type ?? 0;
        if (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number))
        {
            var minimum = decimal.TryParse(schema.Minimum, NumberStyles.Float, CultureInfo.InvariantCulture, out var min) ? min : 1;
            return JsonValue.Create(Math.Max(minimum, 1));
        }

        if (type.HasFlag(JsonSchemaType.Boolean))
        {
            return JsonValue.Create(false);
        }

        if (type.HasFlag(JsonSchemaType.Array))
        {
            return new JsonArray(SampleJson(schema.Items, depth + 1));
        }

        if (type.HasFlag(JsonSchemaType.Object) || schema.Properties is { Count: > 0 })
        {
            var body = new JsonObject();
            foreach (var required in schema.Required ?? new HashSet<string>())
            {
                if (schema.Properties is { } properties && properties.TryGetValue(required, out var property))
                {
                    body[required] = SampleJson(property, depth + 1);
                }
            }

            return body;
        }

        if (type.HasFlag(JsonSchemaType.String))
        {
            return JsonValue.Create(schema.Format == "uuid" ? Guid.NewGuid().ToString() : "resilience in practice");
        }

        return null;
    }
}
