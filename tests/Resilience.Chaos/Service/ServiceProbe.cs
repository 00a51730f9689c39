using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Resilience.Chaos.Service;

/// <summary>One request of a table-driven scenario: method, path, raw body, and whether it carries the test API key.</summary>
internal sealed record ServiceRequest(string Case, HttpMethod Method, string Path, string? Body = null, bool WithKey = true, string ContentType = "application/json", string? ApiKey = null, string? IdempotencyKey = null, byte[]? RawBody = null)
{
    public HttpRequestMessage ToMessage(string validKey)
    {
        var message = new HttpRequestMessage(Method, new Uri(Path, UriKind.Relative));
        if (Body is not null || RawBody is not null)
        {
            message.Content = new ByteArrayContent(RawBody ?? Encoding.UTF8.GetBytes(Body!));
            message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType);
        }

        if (ApiKey is not null || WithKey)
        {
            message.Headers.TryAddWithoutValidation("X-Api-Key", ApiKey ?? validKey);
        }

        if (IdempotencyKey is not null)
        {
            message.Headers.TryAddWithoutValidation("Idempotency-Key", IdempotencyKey);
        }

        return message;
    }
}

/// <summary>What the service answered: status, error ID, and anything internal the body gave away.</summary>
internal sealed record ServiceAnswer(string Case, int Status, string? ErrorId, string? Leak, string? RetryAfter)
{
    // What an error body must never contain: SQL, driver and table names, connection strings, stack traces.
    private static readonly string[] Internals =
        ["SELECT ", "INSERT ", "UPDATE ", "DELETE FROM", "content_tasks", "Npgsql", "PostgresException", "Host=", "Password", "Username=", "   at ", "Exception:", "StackTrace", "System."];

    public static async Task<ServiceAnswer> ReadAsync(string name, HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        string? errorId = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                errorId = json.RootElement.TryGetProperty("errorId", out var id) ? id.GetString() : null;
            }
            catch (JsonException)
            {
                // A problem+json body that is not JSON is reported as "no error ID".
            }
        }

        var leak = Internals.FirstOrDefault(i => body.Contains(i, StringComparison.OrdinalIgnoreCase));
        return new ServiceAnswer(name, (int)response.StatusCode, errorId, leak, response.Headers.RetryAfter?.ToString());
    }
}

/// <summary>A fingerprint of every table of the service's database, to prove bad requests changed nothing.</summary>
internal static class DatabaseFingerprint
{
    public static async Task<IReadOnlyDictionary<string, string>> TakeAsync(string connectionString)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        var tables = new List<string>();
        await using (var list = db.CreateCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var prints = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            await using var print = db.CreateCommand($"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM \"{table}\" t");
            prints[table] = (string)(await print.ExecuteScalarAsync())!;
        }

        return prints;
    }
}
