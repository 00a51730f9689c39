using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Resilience.Chaos.Overload;

/// <summary>
/// A dependency that gets slow when overloaded, on loopback: a fixed pool of <see cref="Workers"/> workers, each taking
/// <see cref="ServiceTime"/> per request, behind an unbounded FIFO queue. Its capacity is Workers / ServiceTime requests
/// a second; past it, latency grows with the number in flight (the queue), as a thread-pool server's or a model
/// server's does. Like most servers it never notices that a caller gave up: it works every request it queued.
/// </summary>
/// <remarks>
/// The work is a timer wait, not CPU, so the capacity holds on a small, loaded machine. Each request carries its
/// caller's deadline (<see cref="DeadlineHeader"/>, a <see cref="Stopwatch"/> timestamp: client and server share this
/// process) and its load step (<see cref="StepHeader"/>); a request finished after its deadline is work wasted.
/// </remarks>
internal sealed class OverloadServer : IAsyncDisposable
{
    public const string DeadlineHeader = "X-Caller-Deadline";
    public const string StepHeader = "X-Load-Step";

    private readonly Channel<Job> _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly Lock _statsLock = new();
    private readonly Dictionary<int, StepWork> _work = [];
    private readonly List<Task> _workers = [];
    private WebApplication _app = null!;
    private int _inService;

    private OverloadServer(int workers, TimeSpan serviceTime)
    {
        Workers = workers;
        ServiceTime = serviceTime;
    }

    public int Workers { get; }

    public TimeSpan ServiceTime { get; }

    /// <summary>Gets the requests a second the server completes when saturated.</summary>
    public double Capacity => Workers / ServiceTime.TotalSeconds;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Gets how many requests are queued or being worked.</summary>
    public int Backlog => _queue.Reader.Count + Volatile.Read(ref _inService);

    public static async Task<OverloadServer> StartAsync(int workers, TimeSpan serviceTime)
    {
        var server = new OverloadServer(workers, serviceTime);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        server._app = app;
        for (var i = 0; i < workers; i++)
        {
            server._workers.Add(Task.Run(server.WorkAsync));
        }

        return server;
    }

    /// <summary>Gets the work done so far on the requests of <paramref name="step"/>.</summary>
    public StepWork WorkOf(int step)
    {
        lock (_statsLock)
        {
            return _work.GetValueOrDefault(step);
        }
    }

    /// <summary>Drops every queued request (answered 503, never worked) and waits for the ones in service: a fresh server for the next step.</summary>
    public async Task FlushAsync()
    {
        while (_queue.Reader.TryRead(out var job))
        {
            job.Done.TrySetResult(false);
        }

        while (Volatile.Read(ref _inService) > 0 || _queue.Reader.Count > 0)
        {
            while (_queue.Reader.TryRead(out var job))
            {
                job.Done.TrySetResult(false);
            }

            await Task.Delay(10);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var deadline = long.Parse(context.Request.Headers[DeadlineHeader].ToString(), CultureInfo.InvariantCulture);
        var step = int.Parse(context.Request.Headers[StepHeader].ToString(), CultureInfo.InvariantCulture);
        var job = new Job(deadline, step);
        _queue.Writer.TryWrite(job);
        if (await job.Done.Task.ConfigureAwait(false))
        {
            await context.Response.WriteAsync("ok").ConfigureAwait(false);
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        }
    }

    private async Task WorkAsync()
    {
        await foreach (var job in _queue.Reader.ReadAllAsync())
        {
            Interlocked.Increment(ref _inService);
            await Task.Delay(ServiceTime).ConfigureAwait(false);
            var late = Stopwatch.GetTimestamp() > job.Deadline;
            lock (_statsLock)
            {
                var work = _work.GetValueOrDefault(job.Step);
                _work[job.Step] = new StepWork(work.Requests + 1, work.Late + (late ? 1 : 0));
            }

            Interlocked.Decrement(ref _inService);
            job.Done.TrySetResult(true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await FlushAsync();
        await Task.WhenAll(_workers);
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The requests of one step the server worked, and how many of them it finished after their caller's deadline.</summary>
    internal readonly record struct StepWork(int Requests, int Late)
    {
        public double WastedShare => Requests == 0 ? 0 : (double)Late / Requests;
    }

    private sealed class Job(long deadline, int step)
    {
        public long Deadline { get; } = deadline;

        public int Step { get; } = step;

        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
