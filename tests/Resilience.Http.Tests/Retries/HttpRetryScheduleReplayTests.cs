using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Resilience.Http.Testing;
using Resilience.Retry;
using Resilience.Telemetry;
using Resilience.Testing;

namespace Resilience.Http.Tests.Retries;

/// <summary>
/// The handler once drew its own jittered delay and handed it to Core's retry as a <c>Retry-After</c> hint,
/// so the larger of two draws won (+30 % waiting), event 1204 fired without any header, and a seeded random could not
/// reproduce the schedule. The delay is now drawn once, by Core's retry, from the container's random source.
/// </summary>
public sealed class HttpRetryScheduleReplayTests : IAsyncLifetime
{
    private const int Seed = 20;
    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Retry_SeededRandom_1000Requests_DelaysAreTheDocumentedScheduleDrawnOnce()
    {
        const int requests = 1000;
        const int retries = 3;
        var time = new DelayRecordingTimeProvider();
        var log = new CapturingLogger();
        await using var services = Services(time, log, new Random(Seed));
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient("replay");

        for (var i = 0; i < requests; i++)
        {
            // Three 503s without a Retry-After, then the answer: three retries per request, and the breaker stays closed.
            _server.Enqueue(FaultResponse.Status(503), FaultResponse.Status(503), FaultResponse.Status(503), FaultResponse.Ok("ok"));
            using var response = await time.DriveAsync(client.GetAsync(_server.Url("/replay")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The schedule the docs describe: RetryDelay.Compute per retry, a fresh jitter state per request, one draw each.
        var schedule = new RetryOptions { BaseDelay = BaseDelay, MaxDelay = MaxDelay, Backoff = RetryBackoff.Exponential, Jitter = RetryJitter.Decorrelated };
        var random = new Random(Seed);
        var expected = new List<TimeSpan>(requests * retries);
        for (var i = 0; i < requests; i++)
        {
            double state = 0;
            for (var attempt = 1; attempt <= retries; attempt++)
            {
                // Task.Delay waits whole milliseconds (and starts no timer for less than one).
                var delay = Milliseconds(RetryDelay.Compute(schedule, attempt, ref state, random));
                if (delay > TimeSpan.Zero)
                {
                    expected.Add(delay);
                }
            }
        }

        var delays = time.Delays;
        Assert.Equal(expected.Count, delays.Count);
        Assert.Equal(Sum(expected), Sum(delays));
        Assert.Equal(expected, delays);

        // No server sent a Retry-After, so no hint was adjusted.
        Assert.DoesNotContain(ResilienceEventIds.RetryAfterAdjusted, log.EventIds);
    }

    [Fact]
    public async Task Retry_RetryAfterBelowBackoff_WaitsTheBackoffAndReportsTheAdjustment()
    {
        var time = new DelayRecordingTimeProvider();
        var log = new CapturingLogger();
        await using var services = Services(time, log, new Random(Seed));
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient("replay");
        _server.Enqueue(FaultResponse.RetryAfterSeconds(503, 0), FaultResponse.Ok("ok"));

        using var response = await time.DriveAsync(client.GetAsync(_server.Url("/hinted")));

        // The backoff is the floor of a server's hint: the one draw, and 1204 says the header's 0 s was raised to it.
        double state = 0;
        var backoff = Milliseconds(RetryDelay.Compute(new RetryOptions { BaseDelay = BaseDelay, MaxDelay = MaxDelay }, 1, ref state, new Random(Seed)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([backoff], time.Delays);
        Assert.Single(log.EventIds, id => id == ResilienceEventIds.RetryAfterAdjusted);
    }

    private static ServiceProvider Services(TimeProvider time, CapturingLogger log, Random random)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddLogging(b => b.AddProvider(log).SetMinimumLevel(LogLevel.Trace));
        services.AddResilience().UseRandom(random);
        services.AddHttpClient("replay").AddResilienceHttpHandler(o =>
        {
            o.BaseDelay = BaseDelay;
            o.MaxDelay = MaxDelay;
            o.RetryBudget.Enabled = false;
        });
        return services.BuildServiceProvider();
    }

    private static TimeSpan Milliseconds(TimeSpan delay) => TimeSpan.FromMilliseconds((long)delay.TotalMilliseconds);

    private static TimeSpan Sum(IEnumerable<TimeSpan> delays)
    {
        var total = TimeSpan.Zero;
        foreach (var delay in delays)
        {
            total += delay;
        }

        return total;
    }
}
