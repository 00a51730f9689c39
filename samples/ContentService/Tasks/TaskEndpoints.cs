using ContentService.Errors;
using ContentService.Hosting;
using ContentService.Security;
using ContentService.Tasks.Execution;

namespace ContentService.Tasks;

/// <summary><c>/api/tasks</c>: create (idempotent with Idempotency-Key), get, list, cancel.</summary>
internal static class TaskEndpoints
{
    public static RouteGroupBuilder MapTasks(this IEndpointRouteBuilder app)
    {
        var tasks = app.MapGroup("/api/tasks").WithTags("Tasks");

        tasks.MapPost("/", async (HttpContext http, CreateTaskRequest? request, TaskRepository repository, TaskSignal signal, CancellationToken ct) =>
        {
            var key = TaskRequestValidator.ParseIdempotencyKey(http.Request.Headers["Idempotency-Key"]);
            var spec = TaskRequestValidator.Validate(request);
            var identity = ApiKeyIdentityFeature.Get(http)!;
            var result = await repository.CreateAsync(spec, identity.Owner, key, ct);
            if (result.KeyReusedWithOtherBody)
            {
                throw ApiException.Conflict("This Idempotency-Key was already used with a different request body.");
            }

            var location = $"/api/tasks/{result.Task.Id}";
            if (!result.Created)
            {
                // The same request again: the same task, answered as a plain read so the client knows nothing new started.
                http.Response.Headers["Idempotent-Replayed"] = "true";
                http.Response.Headers.Location = location;
                return Results.Ok(result.Task);
            }

            signal.Notify();
            return Results.Accepted(location, result.Task);
        })
        .RequireApiKey()
        .WithMetadata(IdempotencyKeyMetadata.Instance)
        .Accepts<CreateTaskRequest>("application/json") // the body is parsed by hand (duplicate keys, strict numbers); say its shape
        .Produces<TaskResponse>(StatusCodes.Status202Accepted)
        .Produces<TaskResponse>(StatusCodes.Status200OK)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        tasks.MapGet("/{id}", async (string id, TaskRepository repository, CancellationToken ct) =>
            await repository.GetAsync(TaskRequestValidator.ParseId(id), ct) is { } task ? Results.Ok(task) : throw ApiException.NotFound("Task"))
        .WithReadDeadline()
        .Produces<TaskResponse>()
        .ProducesProblem(StatusCodes.Status404NotFound);

        tasks.MapGet("/", async (string? status, string? page, string? pageSize, TaskRepository repository, CancellationToken ct) =>
        {
            var query = TaskRequestValidator.ParseListQuery(status, page, pageSize);
            return Results.Ok(await repository.ListAsync(query.Status, query.Page, query.PageSize, ct));
        })
        .WithReadDeadline()
        .Produces<TaskPage>();

        tasks.MapDelete("/{id}", async (string id, TaskRepository repository, RunningTaskRegistry running, CancellationToken ct) =>
        {
            var taskId = TaskRequestValidator.ParseId(id);
            var task = await repository.CancelAsync(taskId, ct) ?? throw ApiException.NotFound("Task");
            if (task.Status != TaskStates.Cancelled)
            {
                throw ApiException.InvalidState($"The task has already {task.Status}; only pending or running tasks can be cancelled.");
            }

            running.Cancel(taskId);
            return Results.Ok(task);
        })
        .RequireApiKey()
        .Produces<TaskResponse>()
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict);

        return tasks;
    }
}
