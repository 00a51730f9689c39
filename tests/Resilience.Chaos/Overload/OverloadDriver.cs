using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Chaos.Load;

namespace Resilience.Chaos.Overload;

/// <summary>
/// Drives one contender's client into the <see cref="OverloadServer"/> open-loop (arrivals on schedule whatever the
/// server does), each call with its caller's 1 s deadline, and records what every caller got.
/// </summary>
internal sealed class OverloadDriver : IAsyncDisposable
{
    /// <summary>Gets every caller's deadline: a reply later than this is of no use to it.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);

    private readonly ServiceProvider _services;
    private readonly HttpClient _client;
    private readonly long _origin = Stopwatch.GetTimestamp();

    public OverloadDriver(OverloadContender contender, OverloadServer server)
    {
        var services = new ServiceCollection();
        var builder = services.AddHttpClient("overload", c =>
        {
            c.BaseAddress = server.BaseAddress;
            c.Timeout = Timeout.InfiniteTimeSpan;
        });

        // One handler chain for the whole row (the factory would rebuild it, with a fresh limiter, every two minutes).
        builder.SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        contender.AddProtection(builder, server);
        _services = services.BuildServiceProvider();
        _client = _services.GetRequiredService<IHttpClientFactory>().CreateClient("overload");
    }

    /// <summary>Gets the time since the driver started: the clock of <see cref="OverloadCall"/>.</summary>
    public TimeSpan Now => Stopwatch.GetElapsedTime(_origin);

    /// <summary>Calls at <paramref name="ratePerSecond"/> for <paramref name="duration"/>, tagging the server's work with <paramref name="step"/>.</summary>
    public async Task<OverloadCall[]> RunAsync(int step, double ratePerSecond, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource(duration);
        return await ArrivalSchedule.RunAsync((int)Math.Round(ratePerSecond), _ => CallAsync(step), stop.Token);
    }

    private async Task<OverloadCall> CallAsync(int step)
    {
        var started = Now;
        var startedAt = Stopwatch.GetTimestamp();
        using var deadline = new CancellationTokenSource(Deadline);
        using var request = new HttpRequestMessage(HttpMethod.Get, "work");
        request.Headers.Add(OverloadServer.DeadlineHeader, (startedAt + (long)(Deadline.TotalSeconds * Stopwatch.Frequency)).ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(OverloadServer.StepHeader, step.ToString(CultureInfo.InvariantCulture));
        var result = CallResult.Failed;
        try
        {
            using var response = await _client.SendAsync(request, deadline.Token);
            if (response.IsSuccessStatusCode)
            {
                await response.Content.ReadAsStringAsync(deadline.Token);
                result = CallResult.Succeeded;
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            result = CallResult.TimedOut;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A refusal by the protection, or the deadline seen as a timeout: the caller got no reply either way.
            result = e is TimeoutException || e.InnerException is TimeoutException ? CallResult.TimedOut : CallResult.Failed;
        }

        var latency = Stopwatch.GetElapsedTime(startedAt);
        if (result == CallResult.Succeeded && latency > Deadline)
        {
            result = CallResult.TimedOut;
        }

        return new OverloadCall(started, latency, result);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _services.DisposeAsync();
    }
}

/// <summary>What one caller got: when it called (on the driver's clock), how long it waited, and the result.</summary>
internal readonly record struct OverloadCall(TimeSpan Started, TimeSpan Latency, CallResult Result)
{
    public TimeSpan Ended => Started + Latency;

    /// <summary>Gets whether the caller had a reply within its deadline.</summary>
    public bool Good => Result == CallResult.Succeeded;
}

internal enum CallResult
{
    Succeeded,
    TimedOut,
    Failed,
}
