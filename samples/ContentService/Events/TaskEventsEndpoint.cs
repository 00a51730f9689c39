using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using ContentService.Errors;
using ContentService.Security;
using ContentService.Tasks;
using Microsoft.Extensions.Options;

namespace ContentService.Events;

/// <summary><c>GET /api/tasks/{id}/events</c>: server-sent events of the task's status, stage and progress until it ends.</summary>
internal static class TaskEventsEndpoint
{
    public static IServiceCollection AddTaskEvents(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EventsOptions>().Bind(configuration.GetSection(EventsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EventsOptions>, EventsOptionsValidator>();
        services.AddSingleton<TaskEventHub>();
        services.AddSingleton<EventStreamLimiter>();
        return services;
    }

    public static IEndpointRouteBuilder MapTaskEvents(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/tasks/{id}/events", async (string id, HttpContext http, TaskRepository tasks, EventStreamLimiter limiter, TaskEventHub hub,
            IOptions<EventsOptions> options, TimeProvider time, IHostApplicationLifetime lifetime, CancellationToken ct) =>
        {
            var taskId = TaskRequestValidator.ParseId(id);
            var slot = limiter.TryAcquire(SecurityServiceCollectionExtensions.ClientKey(http))
                ?? throw new ApiException(StatusCodes.Status429TooManyRequests, ServiceErrorIds.RateLimited, "Too many open event streams; close one first.")
                {
                    RetryAfter = TimeSpan.FromSeconds(5),
                };
            try
            {
                var subscription = hub.Subscribe(taskId);
                try
                {
                    var current = await tasks.GetAsync(taskId, ct) ?? throw ApiException.NotFound("Task");
                    var events = StreamAsync(current, subscription, tasks, options.Value, time, slot, lifetime.ApplicationStopping, ct);
                    return TypedResults.ServerSentEvents(events);
                }
                catch
                {
                    subscription.Dispose();
                    throw;
                }
            }
            catch
            {
                slot.Dispose();
                throw;
            }
        })
        .WithTags("Tasks")
        .DisableRateLimiting() // a stream would hold a request slot for its whole life; it has its own limits
        .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    private static async IAsyncEnumerable<SseItem<TaskEvent>> StreamAsync(
        TaskResponse current, TaskEventHub.Subscription subscription, TaskRepository tasks, EventsOptions options, TimeProvider time, IDisposable slot,
        CancellationToken stopping, [EnumeratorCancellation] CancellationToken requestAborted)
    {
        // Streams end when the host stops, so a graceful shutdown is not held up by clients watching tasks.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, requestAborted);
        var ct = linked.Token;
        using var slotLease = slot;
        using var subscribed = subscription;
        var last = ToEvent(current, time);
        yield return Item(last);
        var lastChange = time.GetTimestamp();
        Task<TaskEvent>? next = null;
        try
        {
            while (!TaskStates.IsFinal(last.Status))
            {
                if (time.GetElapsedTime(lastChange) >= options.IdleTimeout)
                {
                    yield return new SseItem<TaskEvent>(last, "idle-timeout");
                    yield break;
                }

                // A change from this instance arrives through the hub at once; one from another instance by polling.
                next ??= subscription.Reader.ReadAsync(ct).AsTask();
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var tick = Task.Delay(Min(options.PollInterval, options.IdleTimeout - time.GetElapsedTime(lastChange)), time, wait.Token);
                var first = await Task.WhenAny(next, tick);
                await wait.CancelAsync();
                if (stopping.IsCancellationRequested)
                {
                    yield return new SseItem<TaskEvent>(last, "shutdown");
                    yield break;
                }

                TaskEvent candidate;
                if (first == next)
                {
                    candidate = await next;
                    next = null;
                }
                else
                {
                    ct.ThrowIfCancellationRequested();
                    var read = await tasks.GetAsync(current.Id, ct);
                    if (read is null)
                    {
                        yield break;
                    }

                    candidate = ToEvent(read, time);
                }

                if (candidate.Status != last.Status || candidate.Stage != last.Stage || candidate.Progress != last.Progress)
                {
                    last = candidate;
                    lastChange = time.GetTimestamp();
                    yield return Item(last);
                }
            }
        }
        finally
        {
            // The read still pending ends when the subscription closes; its outcome is of no interest.
            next?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private static SseItem<TaskEvent> Item(TaskEvent change) => new(change, TaskStates.IsFinal(change.Status) ? change.Status : "progress");

    private static TaskEvent ToEvent(TaskResponse task, TimeProvider time) => new(task.Id, task.Status, task.Stage, task.Progress, task.ErrorId, time.GetUtcNow());

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
