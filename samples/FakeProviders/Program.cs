using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using FakeProviders;
using FakeProviders.OAuth;

// Local stand-ins for the LLM, image and CMS providers the content service calls, with fault injection
// (error rate, latency, latency growing with load, outage, 429 with Retry-After, hang, connection dropped mid-response) so breakers and
// fallbacks can be watched working.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, FakeJsonContext.Default));
builder.Services.AddSingleton<FaultBoard>();
var app = builder.Build();

app.MapGet("/health", () => Results.Ok(new HealthResponse("ok")));
app.MapGitHubStandIn(); // OAuth sign-in: /oauth/authorize, /oauth/access_token, /oauth/user

// Fault controls: GET lists every target's faults, PUT replaces one target's, DELETE clears them.
app.MapGet("/faults", (FaultBoard board) => Results.Ok(board.All()));
app.MapPut("/faults/{target}", (string target, FaultSettings settings, FaultBoard board) =>
{
    var errors = settings.Validate();
    if (errors.Count > 0)
    {
        return Results.ValidationProblem(errors, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Invalid fault settings", extensions: new Dictionary<string, object?> { ["errorId"] = "ERR_VALIDATION" });
    }

    board.Set(target, settings);
    return Results.Ok(settings);
});
// Requests received per target since start (faulted or not), for scripts that count what reached a provider.
app.MapGet("/requests", (FaultBoard board) => Results.Ok(board.Requests()));
app.MapDelete("/faults", (FaultBoard board) =>
{
    board.Clear();
    return Results.NoContent();
});

// LLM: the named providers of LlmEndpoints.Catalogue (local, budget, premium), each its own fault target.
app.MapLlm();

// Image generation: a GPU with finite memory (fault target "images").
app.MapImages();

// Fine-tuning: training-file uploads and the jobs' reported results (fault target "fine-tuning").
app.MapFineTuning();

// Image CMS: upload, metadata, delete. Uploads honour Idempotency-Key, so a retried upload never duplicates.
var images = new ConcurrentDictionary<string, ImageMetadata>();
var byIdempotencyKey = new ConcurrentDictionary<string, string>();
app.MapPost("/cms/images", async (HttpContext http, FaultBoard board) =>
{
    if (await board.InjectAsync("cms", http) is { } fault)
    {
        return fault;
    }

    using var body = new MemoryStream();
    await http.Request.Body.CopyToAsync(body, http.RequestAborted);
    if (body.Length == 0)
    {
        return Results.Problem(statusCode: 422, title: "image body is empty", extensions: new Dictionary<string, object?> { ["errorId"] = "ERR_VALIDATION" });
    }

    var key = http.Request.Headers["Idempotency-Key"].ToString();
    var id = string.IsNullOrEmpty(key) ? Guid.NewGuid().ToString("N") : byIdempotencyKey.GetOrAdd(key, static _ => Guid.NewGuid().ToString("N"));
    var metadata = images.GetOrAdd(id, _ => new ImageMetadata(id, body.Length, http.Request.ContentType ?? "application/octet-stream", DateTimeOffset.UtcNow));
    return Results.Created($"/cms/images/{id}", metadata);
});
app.MapGet("/cms/images/{id}", async (string id, HttpContext http, FaultBoard board) =>
    await board.InjectAsync("cms", http) ?? (images.TryGetValue(id, out var m) ? Results.Ok(m) : Results.NotFound()));
app.MapDelete("/cms/images/{id}", async (string id, HttpContext http, FaultBoard board) =>
    await board.InjectAsync("cms", http) ?? (images.TryRemove(id, out _) ? Results.NoContent() : Results.NotFound()));

// Usage (the original's Cloudinary /usage call): plan, stored images and bytes, credits, and how many usage calls
// were answered, so a caller's cache can be seen working. Subject to the "cms" faults like the other CMS calls.
long usageCalls = 0;
app.MapGet("/cms/usage", async (HttpContext http, FaultBoard board) =>
{
    if (await board.InjectAsync("cms", http) is { } fault)
    {
        return fault;
    }

    var bytes = images.Values.Sum(static i => i.Bytes);
    var credits = Math.Round(images.Count * 0.01 + bytes / 1_000_000_000.0, 4);
    return Results.Ok(new CmsUsage("free", images.Count, bytes, Interlocked.Increment(ref usageCalls), credits, 25, DateTimeOffset.UtcNow));
});

await app.RunAsync();

/// <summary>The entry point, visible to the content service's tests, which start these providers in-process on loopback.</summary>
public partial class Program;

namespace FakeProviders
{
    /// <summary>The faults currently injected per target (an LLM provider name, "images" or "cms").</summary>
    internal sealed class FaultBoard
    {
        private readonly ConcurrentDictionary<string, FaultSettings> _faults = new(StringComparer.OrdinalIgnoreCase);
        private readonly ConcurrentDictionary<string, StrongBox<int>> _inFlight = new(StringComparer.OrdinalIgnoreCase);
        private readonly ConcurrentDictionary<string, StrongBox<long>> _requests = new(StringComparer.OrdinalIgnoreCase);

        public IReadOnlyDictionary<string, FaultSettings> All() => new Dictionary<string, FaultSettings>(_faults, StringComparer.OrdinalIgnoreCase);

        public void Set(string target, FaultSettings settings) => _faults[target] = settings;

        public void Clear() => _faults.Clear();

        public Dictionary<string, long> Requests()
        {
            var counts = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
            foreach (var (target, count) in _requests)
            {
                counts[target] = Interlocked.Read(ref count.Value);
            }

            return counts;
        }

        /// <summary>Applies the target's faults to this request: returns the faulty response, or null to answer normally.</summary>
        public async Task<IResult?> InjectAsync(string target, HttpContext http)
        {
            Interlocked.Increment(ref _requests.GetOrAdd(target, static _ => new StrongBox<long>()).Value);
            if (!_faults.TryGetValue(target, out var f))
            {
                return null;
            }

            if (f.LatencyMs > 0 || f.LatencyPerInFlightMs > 0)
            {
                // A model server under load: every request in flight on the target (this one included) adds its share.
                var inFlight = _inFlight.GetOrAdd(target, static _ => new StrongBox<int>());
                var load = Interlocked.Increment(ref inFlight.Value);
                try
                {
                    await Task.Delay(f.LatencyMs + (f.LatencyPerInFlightMs * load), http.RequestAborted);
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight.Value);
                }
            }

            if (f.Hang)
            {
                // Held until the client gives up: what a stuck upstream looks like.
                await Task.Delay(Timeout.Infinite, http.RequestAborted);
            }

            if (f.Outage)
            {
                http.Abort();
                return Results.Empty;
            }

            if (f.DropConnection)
            {
                // Headers and part of a body, then the connection is cut: what a crashing upstream looks like.
                http.Response.StatusCode = StatusCodes.Status200OK;
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync("{\"text\":\"cut", http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
                http.Abort();
                return Results.Empty;
            }

            if (f.RateLimitRetryAfterSeconds is { } seconds)
            {
                http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.StatusCode(StatusCodes.Status429TooManyRequests);
            }

            if (f.ErrorRate > 0 && Random.Shared.NextDouble() < f.ErrorRate)
            {
                return Results.StatusCode(f.ErrorStatus);
            }

            return null;
        }
    }

    /// <summary>What to inject: all optional; an empty object means healthy.</summary>
    /// <param name="LatencyPerInFlightMs">Slows the target down with load, like a model server: each request waits this long
    /// per request in flight on the target (itself included), on top of <paramref name="LatencyMs"/>.</param>
    internal sealed record FaultSettings(double ErrorRate = 0, int ErrorStatus = 503, int LatencyMs = 0, bool Outage = false, int? RateLimitRetryAfterSeconds = null, bool Hang = false, bool DropConnection = false, int LatencyPerInFlightMs = 0)
    {
        public Dictionary<string, string[]> Validate()
        {
            var errors = new Dictionary<string, string[]>();
            if (ErrorRate is < 0 or > 1)
            {
                errors["errorRate"] = ["must be between 0 and 1"];
            }

            if (ErrorStatus is < 400 or > 599)
            {
                errors["errorStatus"] = ["must be an HTTP error status (400-599)"];
            }

            if (LatencyMs is < 0 or > 600_000)
            {
                errors["latencyMs"] = ["must be between 0 and 600000"];
            }

            if (LatencyPerInFlightMs is < 0 or > 60_000)
            {
                errors["latencyPerInFlightMs"] = ["must be between 0 and 60000"];
            }

            if (RateLimitRetryAfterSeconds is < 0)
            {
                errors["rateLimitRetryAfterSeconds"] = ["must not be negative"];
            }

            return errors;
        }
    }

    internal sealed record HealthResponse(string Status);

    internal sealed record GenerateRequest(string? Prompt, string? Mode = null, int? TargetWords = null);

    internal sealed record GenerateResponse(string Text, int Tokens, decimal CostUsd, string Provider);

    internal sealed record CritiqueRequest(string? Text);

    internal sealed record CritiqueResponse(int Score, int Tokens, decimal CostUsd, string Provider);

    internal sealed record ImageMetadata(string Id, long Bytes, string ContentType, DateTimeOffset UploadedAt);

    /// <summary>The CMS account's usage; <see cref="UsageCalls"/> counts the usage calls answered, this one included.</summary>
    internal sealed record CmsUsage(string Plan, int Images, long StorageBytes, long UsageCalls, double CreditsUsed, double CreditsLimit, DateTimeOffset UpdatedAt);

    [JsonSerializable(typeof(HealthResponse))]
    [JsonSerializable(typeof(GenerateRequest))]
    [JsonSerializable(typeof(GenerateResponse))]
    [JsonSerializable(typeof(CritiqueRequest))]
    [JsonSerializable(typeof(CritiqueResponse))]
    [JsonSerializable(typeof(LlmProvider[]))]
    [JsonSerializable(typeof(ImageMetadata))]
    [JsonSerializable(typeof(CmsUsage))]
    [JsonSerializable(typeof(ImageRequest))]
    [JsonSerializable(typeof(GeneratedImage))]
    [JsonSerializable(typeof(GpuCapacity))]
    [JsonSerializable(typeof(TrainingFile))]
    [JsonSerializable(typeof(FineTuningJobReport))]
    [JsonSerializable(typeof(FineTuningJob))]
    [JsonSerializable(typeof(FaultSettings))]
    [JsonSerializable(typeof(IReadOnlyDictionary<string, FaultSettings>))]
    [JsonSerializable(typeof(Dictionary<string, FaultSettings>))]
    [JsonSerializable(typeof(Dictionary<string, long>))]
    [JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
    [JsonSerializable(typeof(HttpValidationProblemDetails))]
    [JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
    internal sealed partial class FakeJsonContext : JsonSerializerContext;
}
