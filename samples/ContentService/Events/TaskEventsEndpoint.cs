using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using ContentService.Errors;
using ContentService.Security;
using ContentService.Tasks;
using Microsoft.Extensions.Options;
using Resilience.Npgsql;

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
        app.MapGet("/api/tasks/{id}/events", async (string id, [Microsoft.AspNetCore.Mvc.FromHeader(Name = "Last-Event-ID")] string? lastEventId, HttpContext http, TaskRepository tasks, EventStreamLimiter limiter, TaskEventHub hub,
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

                    // A reconnecting EventSource sends the id of the last event it got: it is sent only what changed since.
                    if (TaskStates.IsFinal(current.Status) && lastEventId == IdOf(ToEvent(current, time)))
                    {
                        // It already has the final state; 204 tells an EventSource to stop reconnecting.
                        subscription.Dispose();
                        slot.Dispose();
                        return Results.NoContent();
                    }

                    var events = StreamAsync(current, lastEventId ?? "", subscription, tasks, options.Value, time, slot, lifetime.ApplicationStopping, ct);
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
        .Produces(StatusCodes.Status204NoContent)
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    private static async IAsyncEnumerable<SseItem<TaskEvent>> StreamAsync(
        TaskResponse current, string lastEventId, TaskEventHub.Subscription subscription, TaskRepository tasks, EventsOptions options, TimeProvider time, IDisposable slot,
        CancellationToken stopping, [EnumeratorCancellation] CancellationToken requestAborted)
    {
        // Streams end when the host stops, so a graceful shutdown is not held up by clients watching tasks.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, requestAborted);
        var ct = linked.Token;
        using var slotLease = slot;
        using var subscribed = subscription;
        var last = ToEvent(current, time);
        if (lastEventId != IdOf(last))
        {
            yield return Item(last);
        }

        var lastChange = time.GetTimestamp();
        Task<TaskEvent>? next = null;
        try
        {
            while (!TaskStates.IsFinal(last.Status))
            {
                if (time.GetElapsedTime(lastChange) >= options.IdleTimeout)
                {
                    yield return new SseItem<TaskEvent>(last, "idle-timeout") { EventId = IdOf(last) };
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
                    yield return new SseItem<TaskEvent>(last, "shutdown") { EventId = IdOf(last) };
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
                    var (read, databaseFailed) = await TryReadAsync(tasks, current.Id, ct);
                    if (databaseFailed)
                    {
                        // The database is out for now: keep the stream open and read again at the next poll.
                        continue;
                    }

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

    private static async Task<(TaskResponse? Task, bool DatabaseFailed)> TryReadAsync(TaskRepository tasks, Guid id, CancellationToken ct)
    {
        try
        {
            return (await tasks.GetAsync(id, ct), false);
        }
        catch (DatabaseException)
        {
            return (null, true);
        }
    }

    private static SseItem<TaskEvent> Item(TaskEvent change) =>
        new(change, TaskStates.IsFinal(change.Status) ? change.Status : "progress") { EventId = IdOf(change) };

    /// <summary>
    /// The event's id names the state it shows (status, stage, progress): the stream keeps no history, and the current
    /// state supersedes every change a client missed, so resuming means "send the current state unless it is this one".
    /// </summary>
    private static string IdOf(TaskEvent change) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{change.Status}.{change.Stage}.{change.Progress}");

    private static TaskEvent ToEvent(TaskResponse task, TimeProvider time) => new(task.Id, task.Status, task.Stage, task.Progress, task.ErrorId, time.GetUtcNow());

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
