using System.Collections.Concurrent;

namespace FakeProviders;

/// <summary>
/// The fake fine-tuning provider (fault target "fine-tuning"): training files uploaded as JSON lines (one file per
/// Idempotency-Key, so a retried upload is stored once) and the jobs' results as the content service reports them.
/// </summary>
internal static class FineTuningEndpoints
{
    public static WebApplication MapFineTuning(this WebApplication app)
    {
        var files = new ConcurrentDictionary<string, TrainingFile>();
        var byKey = new ConcurrentDictionary<string, string>();
        var jobs = new ConcurrentDictionary<string, FineTuningJob>();

        app.MapPost("/fine-tuning/files", async (HttpContext http, FaultBoard board) =>
        {
            if (await board.InjectAsync("fine-tuning", http) is { } fault)
            {
                return fault;
            }

            using var reader = new StreamReader(http.Request.Body);
            var text = await reader.ReadToEndAsync(http.RequestAborted);
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            if (lines == 0)
            {
                return Results.Problem(statusCode: 422, title: "training file is empty", extensions: new Dictionary<string, object?> { ["errorId"] = "ERR_VALIDATION" });
            }

            var key = http.Request.Headers["Idempotency-Key"].ToString();
            var id = string.IsNullOrEmpty(key) ? "file-" + Guid.NewGuid().ToString("N") : byKey.GetOrAdd(key, static _ => "file-" + Guid.NewGuid().ToString("N"));
            var file = files.GetOrAdd(id, _ => new TrainingFile(id, text.Length, lines, DateTimeOffset.UtcNow));
            return Results.Created($"/fine-tuning/files/{id}", file);
        });
        app.MapGet("/fine-tuning/files/{id}", (string id) => files.TryGetValue(id, out var f) ? Results.Ok(f) : Results.NotFound());

        app.MapPut("/fine-tuning/jobs/{id}", async (string id, FineTuningJobReport report, HttpContext http, FaultBoard board) =>
        {
            if (await board.InjectAsync("fine-tuning", http) is { } fault)
            {
                return fault;
            }

            if (report.TrainingFileId is null || !files.ContainsKey(report.TrainingFileId))
            {
                return Results.Problem(statusCode: 422, title: "unknown training file", extensions: new Dictionary<string, object?> { ["errorId"] = "ERR_VALIDATION" });
            }

            var job = new FineTuningJob(id, report.Status ?? "unknown", report.TrainingFileId, report.Model, DateTimeOffset.UtcNow);
            jobs[id] = job;
            return Results.Ok(job);
        });
        app.MapGet("/fine-tuning/jobs/{id}", (string id) => jobs.TryGetValue(id, out var j) ? Results.Ok(j) : Results.NotFound());
        return app;
    }
}

internal sealed record TrainingFile(string Id, int Bytes, int Examples, DateTimeOffset UploadedAt);

internal sealed record FineTuningJobReport(string? Status, string? TrainingFileId, string? Model);

internal sealed record FineTuningJob(string Id, string Status, string TrainingFileId, string? Model, DateTimeOffset UpdatedAt);
