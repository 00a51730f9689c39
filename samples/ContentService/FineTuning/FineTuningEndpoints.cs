using ContentService.Errors;
using ContentService.Hosting;
using ContentService.Providers;
using ContentService.Security;
using ContentService.Tasks;
using Microsoft.Extensions.Options;

namespace ContentService.FineTuning;

/// <summary><c>/api/fine-tuning/jobs</c>: create a job, read its status and progress, cancel it.</summary>
internal static class FineTuningEndpoints
{
    private const int MaxTextLength = 4000;

    public static IServiceCollection AddFineTuning(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FineTuningOptions>().Bind(configuration.GetSection(FineTuningOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FineTuningOptions>, FineTuningOptionsValidator>();
        services.AddSingleton<FineTuningRepository>();
        services.AddSingleton<FineTuningRunner>();
        services.AddHostedService(static sp => sp.GetRequiredService<FineTuningRunner>());
        services.AddHttpClient(FineTuningRunner.ClientName, static (sp, client) =>
                client.BaseAddress = sp.GetRequiredService<IOptions<ProvidersOptions>>().Value.BaseUrl)
            .AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:" + FineTuningRunner.ClientName));
        return services;
    }

    public static RouteGroupBuilder MapFineTuning(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/fine-tuning/jobs").WithTags("Fine-tuning");

        group.MapPost("/", async (HttpContext http, CreateFineTuningJobRequest? request, FineTuningRepository jobs, FineTuningRunner runner,
            IOptions<FineTuningOptions> options, CancellationToken ct) =>
        {
            var (baseModel, epochs, examples) = Validate(request, options.Value.MaxExamples);
            if (!runner.HasCapacity)
            {
                // Checked before the row exists, so a refused job leaves nothing behind.
                throw ApiException.CapacityExhausted("This instance is running its maximum of fine-tuning jobs; try again later.", TimeSpan.FromSeconds(30));
            }

            var job = await jobs.CreateAsync(Guid.CreateVersion7(), baseModel, epochs, examples.Count, ApiKeyIdentityFeature.Get(http)!.Owner, ct);
            if (!runner.TryStart(job, examples))
            {
                // Lost the race for the last slot: the job ends at once rather than waiting with no one to run it.
                await jobs.FinishAsync(job.Id, FineTuningStates.Failed, null, ServiceErrorIds.CapacityExhausted, "No capacity to run the job.", CancellationToken.None);
                throw ApiException.CapacityExhausted("This instance is running its maximum of fine-tuning jobs; try again later.", TimeSpan.FromSeconds(30));
            }

            return Results.Accepted($"/api/fine-tuning/jobs/{job.Id}", job);
        })
        .RequireApiKey()
        .Produces<FineTuningJobResponse>(StatusCodes.Status202Accepted)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapGet("/{id}", async (string id, FineTuningRepository jobs, CancellationToken ct) =>
            await jobs.GetAsync(TaskRequestValidator.ParseId(id), ct) is { } job ? Results.Ok(job) : throw ApiException.NotFound("Fine-tuning job"))
        .WithReadDeadline()
        .Produces<FineTuningJobResponse>()
        .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapDelete("/{id}", async (string id, FineTuningRepository jobs, FineTuningRunner runner, CancellationToken ct) =>
        {
            var jobId = TaskRequestValidator.ParseId(id);
            var job = await jobs.CancelAsync(jobId, ct) ?? throw ApiException.NotFound("Fine-tuning job");
            if (job.Status != FineTuningStates.Cancelled)
            {
                throw ApiException.InvalidState($"The job has already {job.Status}; only active jobs can be cancelled.");
            }

            // Answered once the trainer's tree, its files and handles are gone, so "cancelled" means stopped.
            await runner.CancelAsync(jobId, ct);
            return Results.Ok(job);
        })
        .RequireApiKey()
        .Produces<FineTuningJobResponse>()
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict);

        return group;
    }

    private static (string BaseModel, int Epochs, List<TrainingExample> Examples) Validate(CreateFineTuningJobRequest? request, int maxExamples)
    {
        if (request is null)
        {
            throw ApiException.Validation("body", "A JSON body is required.");
        }

        var baseModel = request.BaseModel?.Trim();
        if (string.IsNullOrEmpty(baseModel) || baseModel.Length > 64 || !baseModel.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
        {
            throw ApiException.Validation("baseModel", "baseModel is required: 1-64 letters, digits, '-', '.' or '_'.");
        }

        var epochs = request.Epochs ?? 3;
        if (epochs is < 1 or > 20)
        {
            throw ApiException.Validation("epochs", "epochs must be between 1 and 20.");
        }

        if (request.Examples is not { Count: > 0 } examples || examples.Count > maxExamples)
        {
            throw ApiException.Validation("examples", $"examples must hold between 1 and {maxExamples} items.");
        }

        for (var i = 0; i < examples.Count; i++)
        {
            CheckText(examples[i]?.Prompt, $"examples[{i}].prompt");
            CheckText(examples[i]?.Completion, $"examples[{i}].completion");
        }

        return (baseModel, epochs, examples);
    }

    private static void CheckText(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > MaxTextLength || value.Contains('\0', StringComparison.Ordinal))
        {
            throw ApiException.Validation(field, $"{field} is required: at most {MaxTextLength} characters, no NUL.");
        }
    }
}
