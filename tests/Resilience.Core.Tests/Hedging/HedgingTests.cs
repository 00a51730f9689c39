using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Hedging;
using Resilience.Retry;
using Resilience.Telemetry;
using Resilience.Testing;
using Resilience.Timeouts;
using Breaker = Resilience.CircuitBreaking.CircuitBreaker;

namespace Resilience.Core.Tests.Hedging;

public sealed class HedgingTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ExecuteAsync_FirstAttemptAcceptedSynchronously_StartsNoHedge()
    {
        var calls = 0;
        var pipeline = new ResiliencePipelineBuilder("hedge").AddHedging(new HedgingOptions { Delay = TimeSpan.Zero, MaxHedgedAttempts = 3 }).Build();

        Assert.Equal(1, await pipeline.ExecuteAsync(_ => new ValueTask<int>(++calls), CancellationToken.None));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task ExecuteAsync_SlowFirstAttempt_HedgeStartsAfterTheDelay_Wins_AndTheFirstIsCancelled()
    {
        var time = new FakeTimeProvider();
        var upstream = new Upstream();
        var pipeline = new ResiliencePipelineBuilder("hedge") { TimeProvider = time }.AddHedging(new HedgingOptions { Delay = Delay }).Build();

        var call = pipeline.ExecuteAsync(static (ctx, u) => u.CallAsync(ctx), Context(CancellationToken.None), upstream).AsTask();
        await upstream[0].Started.Task.WaitAsync(Guard);
        time.Advance(Delay - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, upstream.Started);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await upstream[1].Started.Task.WaitAsync(Guard);
        upstream[1].Result.SetResult("hedge");

        Assert.Equal("hedge", await call.WaitAsync(Guard));
        await upstream[0].Cancelled.Task.WaitAsync(Guard);
        Assert.False(upstream[1].Token.IsCancellationRequested);
    }

    [Fact]
    public async Task ExecuteAsync_FirstAttemptWinsBeforeTheDelay_HedgeNeverStarts()
    {
        var time = new FakeTimeProvider();
        var upstream = new Upstream();
        var pipeline = new ResiliencePipelineBuilder("hedge") { TimeProvider = time }.AddHedging(new HedgingOptions { Delay = Delay }).Build();

        var call = pipeline.ExecuteAsync(static (ctx, u) => u.CallAsync(ctx), Context(CancellationToken.None), upstream).AsTask();
        await upstream[0].Started.Task.WaitAsync(Guard);
        upstream[0].Result.SetResult("first");

        Assert.Equal("first", await call.WaitAsync(Guard));
        time.Advance(Delay * 10);
        Assert.Equal(1, upstream.Started);
    }

    [Fact]
    public async Task ExecuteAsync_FirstAttemptFails_NextStartsAtOnceWithoutWaitingForTheDelay()
    {
        var time = new FakeTimeProvider();
        var attempts = new List<int>();
        var pipeline = new ResiliencePipelineBuilder("hedge") { TimeProvider = time }
            .AddHedging(new HedgingOptions { Delay = TimeSpan.FromHours(1), MaxHedgedAttempts = 2 })
            .Build();

        var result = await pipeline.ExecuteAsync(
            static (ctx, list) =>
            {
                list.Add(ctx.HedgedAttempt);
                return ctx.HedgedAttempt < 2 ? throw new HttpRequestException("down") : new ValueTask<int>(ctx.HedgedAttempt);
            },
            Context(),
            attempts).AsTask().WaitAsync(Guard);

        Assert.Equal(2, result);
        Assert.Equal([0, 1, 2], attempts);
    }

    [Fact]
    public async Task ExecuteAsync_DelayZero_StartsEveryAttemptAtOnce_AndCancelsTheLosers()
    {
        var upstream = new Upstream();
        var pipeline = new ResiliencePipelineBuilder("hedge").AddHedging(new HedgingOptions { Delay = TimeSpan.Zero, MaxHedgedAttempts = 2 }).Build();

        var call = pipeline.ExecuteAsync(static (ctx, u) => u.CallAsync(ctx), Context(CancellationToken.None), upstream).AsTask();
        await Task.WhenAll(upstream[0].Started.Task, upstream[1].Started.Task, upstream[2].Started.Task).WaitAsync(Guard);
        upstream[2].Result.SetResult("third");

        Assert.Equal("third", await call.WaitAsync(Guard));
        await Task.WhenAll(upstream[0].Cancelled.Task, upstream[1].Cancelled.Task).WaitAsync(Guard);
    }

    [Fact]
    public async Task ExecuteAsync_DelayInfinite_HedgesOnlyOnFailure()
    {
        var time = new FakeTimeProvider();
        var upstream = new Upstream();
        var pipeline = new ResiliencePipelineBuilder("hedge") { TimeProvider = time }
            .AddHedging(new HedgingOptions { Delay = Timeout.InfiniteTimeSpan })
            .Build();

        var call = pipeline.ExecuteAsync(static (ctx, u) => u.CallAsync(ctx), Context(CancellationToken.None), upstream).AsTask();
        await upstream[0].Started.Task.WaitAsync(Guard);
        time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, upstream.Started);

        upstream[0].Result.SetException(new HttpRequestException("reset"));
        await upstream[1].Started.Task.WaitAsync(Guard);
        upstream[1].Result.SetResult("second");
        Assert.Equal("second", await call.WaitAsync(Guard));
    }

    [Fact]
    public async Task ExecuteOutcomeAsync_EveryAttemptFails_ReturnsTheLastFailure()
    {
        var pipeline = new ResiliencePipelineBuilder("hedge").AddHedging(new HedgingOptions { MaxHedgedAttempts = 2 }).Build();

        var outcome = await pipeline.ExecuteOutcomeAsync(
            static (ctx, _) => ValueTask.FromException<int>(new HttpRequestException("attempt " + ctx.HedgedAttempt)),
            Context(),
            0).AsTask().WaitAsync(Guard);

        Assert.Equal("attempt 2", Assert.IsType<HttpRequestException>(outcome.Exception).Message);
    }

    [Fact]
    public async Task ExecuteAsync_FailedResultsOfTheTypedPipeline_StartTheNextAttempt_AndAreDisposed()
    {
        var results = new List<Response>();
        var pipeline = new ResiliencePipelineBuilder<Response>("hedge")
            .ShouldHandleResult(static r => r.Status >= 500)
            .AddHedging(new HedgingOptions { Delay = TimeSpan.FromHours(1), MaxHedgedAttempts = 2 })
            .Build();

        var response = await pipeline.ExecuteAsync(
            static (ctx, list) =>
            {
                var r = new Response(ctx.HedgedAttempt == 2 ? 200 : 503);
                list.Add(r);
                return new ValueTask<Response>(r);
            },
            Context(),
            results).AsTask().WaitAsync(Guard);

        Assert.Equal(200, response.Status);
        Assert.Equal([true, true, false], results.Select(static r => r.Disposed));
    }

    [Fact]
    public async Task ExecuteAsync_ShouldHandleOutcome_DecidesWhatFails()
    {
        var pipeline = new ResiliencePipelineBuilder<int>("hedge")
            .AddHedging(new HedgingOptions<int> { Delay = TimeSpan.FromHours(1), ShouldHandleOutcome = static o => o.Result < 0 })
            .Build();

        Assert.Equal(1, await pipeline.ExecuteAsync(static (ctx, _) => new ValueTask<int>(ctx.HedgedAttempt == 0 ? -1 : 1), Context(), 0).AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task ExecuteOutcomeAsync_TypedOptionsForAnotherResultType_FailsWithInvalidOperation()
    {
        var pipeline = new ResiliencePipelineBuilder("hedge").AddHedging(new HedgingOptions<string> { ShouldHandleOutcome = static _ => false }).Build();

        var outcome = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);

        Assert.IsType<InvalidOperationException>(outcome.Exception);
    }

    [Fact]
    public async Task ExecuteAsync_LoserCompletesAfterTheWinner_ItsResultIsDisposed()
    {
        var time = new FakeTimeProvider();
        var first = new TaskCompletionSource<Response>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pipeline = new ResiliencePipelineBuilder<Response>("hedge") { TimeProvider = time }.AddHedging(new HedgingOptions { Delay = Delay }).Build();

        // The first attempt ignores its token, as a response already on its way would.
        var call = pipeline.ExecuteAsync(
            static (ctx, tcs) => ctx.HedgedAttempt == 0 ? new ValueTask<Response>(tcs.Task) : new ValueTask<Response>(new Response(200)),
            Context(),
            first).AsTask();
        time.Advance(Delay);
        var winner = await call.WaitAsync(Guard);
        var loser = new Response(200);
        first.SetResult(loser);

        await loser.WhenDisposed.WaitAsync(Guard);
        Assert.False(winner.Disposed);
    }

    [Fact]
    public async Task ExecuteAsync_ConcurrentCalls_EachGetsOneLiveResult_AndEveryOtherResultIsDisposed()
    {
        var ledger = new Ledger();
        var pipeline = new ResiliencePipelineBuilder<Response>("hedge")
            .AddHedging(new HedgingOptions { Delay = TimeSpan.Zero, MaxHedgedAttempts = 2 })
            .Build();

        // The three attempts of a call wait until all have started, then race to answer, ignoring their tokens: losers
        // complete after the winner as often as before it.
        var winners = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => pipeline.ExecuteAsync(
            static async (call, _) =>
            {
                await call.AllStartedAsync();
                await Task.Yield();
                return call.Ledger.Create();
            },
            new RacingCall(ledger, attempts: 3),
            CancellationToken.None).AsTask())).WaitAsync(Guard);

        Assert.All(winners, static w => Assert.False(w.Disposed));
        Assert.Equal(200, winners.Distinct().Count());
        // A loser ignores its token and may still be answering when every call has returned: wait for its answer, then for its disposal.
        Assert.True(SpinWait.SpinUntil(() => ledger.Created == 600, Guard), $"{ledger.Created} of 600 attempts answered");
        Assert.True(SpinWait.SpinUntil(() => ledger.Disposed == 400, Guard), $"{ledger.Disposed} of 400 losers disposed");
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancels_EveryAttemptIsCancelled_AndTheCancellationSurfaces()
    {
        var upstream = new Upstream();
        using var caller = new CancellationTokenSource();
        var pipeline = new ResiliencePipelineBuilder("hedge").AddHedging(new HedgingOptions { Delay = TimeSpan.Zero }).Build();

        var call = pipeline.ExecuteAsync(static (ctx, u) => u.CallAsync(ctx), Context(caller.Token), upstream).AsTask();
        await Task.WhenAll(upstream[0].Started.Task, upstream[1].Started.Task).WaitAsync(Guard);
        Assert.NotEqual(caller.Token, upstream[0].Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Guard));
        await Task.WhenAll(upstream[0].Cancelled.Task, upstream[1].Cancelled.Task).WaitAsync(Guard);
    }

    [Fact]
    public async Task ExecuteAsync_DelayGenerator_GivesEachHedgeItsDelay()
    {
        var time = new FakeTimeProvider();
        var upstream = new Upstream();
        var asked = new List<int>();
        var pipeline = new ResiliencePipelineBuilder("hedge") { TimeProvider = time }
            .AddHedging(new HedgingOptions
            {
                MaxHedgedAttempts = 2,
                DelayGenerator = a =>
                {
                    asked.Add(a.AttemptNumber);
                    return TimeSpan.FromSeconds(a.AttemptNumber * 10);
                },
            })
            .Build();

        var call = pipeline.ExecuteAsync(static (ctx, u) => u.CallAsync(ctx), Context(CancellationToken.None), upstream).AsTask();
        await upstream[0].Started.Task.WaitAsync(Guard);
        time.Advance(TimeSpan.FromSeconds(10));
        await upstream[1].Started.Task.WaitAsync(Guard);
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(2, upstream.Started);
        time.Advance(TimeSpan.FromSeconds(1));
        await upstream[2].Started.Task.WaitAsync(Guard);
        upstream[0].Result.SetResult("first");

        Assert.Equal("first", await call.WaitAsync(Guard));
        Assert.Equal([1, 2], asked);
    }

    [Fact]
    public async Task ExecuteAsync_EndpointFromHedgedAttempt_EachAttemptGetsTheNextEndpoint()
    {
        var seen = new List<string>();
        string[] endpoints = ["primary", "secondary", "tertiary"];
        var pipeline = new ResiliencePipelineBuilder("llm").AddHedging(new HedgingOptions { MaxHedgedAttempts = 2 }).Build();

        var answer = await pipeline.ExecuteAsync(
            static (ctx, s) =>
            {
                var endpoint = s.endpoints[ctx.HedgedAttempt % s.endpoints.Length];
                lock (s.seen)
                {
                    s.seen.Add(endpoint);
                }

                return endpoint == "tertiary" ? new ValueTask<string>(endpoint) : throw new HttpRequestException(endpoint + " is down");
            },
            Context(),
            (endpoints, seen)).AsTask().WaitAsync(Guard);

        Assert.Equal("tertiary", answer);
        Assert.Equal(["primary", "secondary", "tertiary"], seen);
    }

    [Fact]
    public async Task ExecuteAsync_FirstEndpointsBreakerIsOpen_NextEndpointAnswersAtOnce()
    {
        var time = new FakeTimeProvider();
        Provider[] providers =
        [
            new("primary", new Breaker("primary", new CircuitBreakerOptions(), time)),
            new("secondary", new Breaker("secondary", new CircuitBreakerOptions(), time)),
        ];
        providers[0].Breaker.Isolate();
        var pipeline = new ResiliencePipelineBuilder<string>("llm") { TimeProvider = time }
            .AddHedging(new HedgingOptions { Delay = TimeSpan.FromHours(1) })
            .Build();

        var answer = await pipeline.ExecuteAsync(
            static (ctx, s) =>
            {
                var p = s.providers[ctx.HedgedAttempt % s.providers.Length];
                return p.Breaker.ExecuteAsync(static (x, _) => new ValueTask<string>(x.Name + ": " + x.Prompt), (p.Name, Prompt: s.prompt), ctx.CancellationToken);
            },
            Context(),
            (providers, prompt: "hello")).AsTask().WaitAsync(Guard);

        Assert.Equal("secondary: hello", answer);
    }

    [Fact]
    public async Task ExecuteAsync_PipelineBreaker_ACancelledLoserIsNotCountedAsAFailure()
    {
        var time = new FakeTimeProvider();
        var upstream = new Upstream();
        var pipeline = new ResiliencePipelineBuilder("hedge") { TimeProvider = time }
            .AddHedging(new HedgingOptions { Delay = Delay })
            .AddCircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 1 })
            .Build();

        var call = pipeline.ExecuteAsync(static (ctx, u) => u.CallAsync(ctx), Context(CancellationToken.None), upstream).AsTask();
        await upstream[0].Started.Task.WaitAsync(Guard);
        time.Advance(Delay);
        await upstream[1].Started.Task.WaitAsync(Guard);
        upstream[1].Result.SetResult("hedge");
        Assert.Equal("hedge", await call.WaitAsync(Guard));
        await upstream[0].Cancelled.Task.WaitAsync(Guard);

        Assert.Equal(CircuitState.Closed, pipeline.CircuitBreaker!.State);
        Assert.Equal(0, pipeline.CircuitBreaker.GetSnapshot().Failures);
    }

    [Fact]
    public async Task ExecuteOutcomeAsync_TotalTimeoutFires_NoFurtherAttemptStarts()
    {
        var time = new FakeTimeProvider();
        var upstream = new Upstream();
        var pipeline = new ResiliencePipelineBuilder("hedge") { TimeProvider = time }
            .AddTotalTimeout(TimeSpan.FromSeconds(1))
            .AddHedging(new HedgingOptions { Delay = TimeSpan.FromMilliseconds(600), MaxHedgedAttempts = 2 })
            .AddAttemptTimeout(TimeSpan.FromSeconds(1))
            .Build();

        var call = pipeline.ExecuteOutcomeAsync(static (ctx, u) => u.CallAsync(ctx), Context(CancellationToken.None), upstream).AsTask();
        await upstream[0].Started.Task.WaitAsync(Guard);
        time.Advance(TimeSpan.FromMilliseconds(600));
        await upstream[1].Started.Task.WaitAsync(Guard);
        time.Advance(TimeSpan.FromMilliseconds(400));
        var outcome = await call.WaitAsync(Guard);

        Assert.Equal(TimeoutKind.Total, Assert.IsType<OperationTimeoutException>(outcome.Exception).Kind);
        Assert.Equal(2, upstream.Started);
    }

    [Fact]
    public async Task ExecuteAsync_WithRetry_ARetryRunsAWholeHedgedRoundAgain()
    {
        var attempts = new List<int>();
        var pipeline = new ResiliencePipelineBuilder("hedge")
            .AddRetry(new RetryOptions { MaxRetries = 1, BaseDelay = TimeSpan.Zero, Jitter = RetryJitter.None })
            .AddHedging(new HedgingOptions { MaxHedgedAttempts = 1 })
            .Build();

        var outcome = await pipeline.ExecuteOutcomeAsync(
            static (ctx, list) =>
            {
                list.Add(ctx.HedgedAttempt);
                return ValueTask.FromException<int>(new HttpRequestException("down"));
            },
            Context(),
            attempts).AsTask().WaitAsync(Guard);

        Assert.IsType<HttpRequestException>(outcome.Exception);
        Assert.Equal([0, 1, 0, 1], attempts);
    }

    [Fact]
    public async Task Hedges_AreCountedByTrigger_AndTheWinnerByAttempt_AndLogged()
    {
        var hedges = new Dictionary<string, long>();
        var winners = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ResilienceTelemetry.MeterName && instrument.Name.StartsWith("resilience.hedging.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? name = null, trigger = null, attempt = null;
            foreach (var tag in tags)
            {
                name = tag.Key == ResilienceTelemetry.NameTag ? (string?)tag.Value : name;
                trigger = tag.Key == "resilience.hedging.trigger" ? (string?)tag.Value : trigger;
                attempt = tag.Key == "resilience.hedging.attempt" ? (string?)tag.Value : attempt;
            }

            if (name != "hedge-metrics")
            {
                return;
            }

            lock (hedges)
            {
                if (instrument.Name == "resilience.hedging.hedges")
                {
                    hedges[trigger!] = hedges.GetValueOrDefault(trigger!) + value;
                }
                else if (instrument.Name == "resilience.hedging.winners")
                {
                    winners[attempt!] = winners.GetValueOrDefault(attempt!) + value;
                }
            }
        });
        listener.Start();
        var logger = new CapturingLogger();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logger).SetMinimumLevel(LogLevel.Trace));
        var time = new FakeTimeProvider();
        var upstream = new Upstream();
        var pipeline = new ResiliencePipelineBuilder("hedge-metrics") { TimeProvider = time, LoggerFactory = loggerFactory }
            .AddHedging(new HedgingOptions { Delay = Delay, MaxHedgedAttempts = 2 })
            .Build();

        var call = pipeline.ExecuteAsync(static (ctx, u) => u.CallAsync(ctx), Context(CancellationToken.None), upstream).AsTask();
        await upstream[0].Started.Task.WaitAsync(Guard);
        time.Advance(Delay);
        await upstream[1].Started.Task.WaitAsync(Guard);
        upstream[1].Result.SetException(new HttpRequestException("reset"));
        await upstream[2].Started.Task.WaitAsync(Guard);
        upstream[2].Result.SetResult("third");
        Assert.Equal("third", await call.WaitAsync(Guard));

        lock (hedges)
        {
            Assert.Equal(1, hedges["delay"]);
            Assert.Equal(1, hedges["failure"]);
            Assert.Equal(1, Assert.Single(winners, static w => w.Key == "2").Value);
        }

        Assert.Equal(2, logger.EventIds.Count(static id => id == ResilienceEventIds.HedgeStarted));
        Assert.Contains(ResilienceEventIds.HedgeWon, logger.EventIds);
    }

    [Fact]
    public void Describe_ListsHedgingBetweenRetryAndTheCircuitBreaker()
    {
        var pipeline = new ResiliencePipelineBuilder("hedge")
            .AddAttemptTimeout(TimeSpan.FromSeconds(1))
            .AddCircuitBreaker(new CircuitBreakerOptions())
            .AddHedging(new HedgingOptions { Delay = TimeSpan.FromMilliseconds(500), MaxHedgedAttempts = 2 })
            .AddRetry(new RetryOptions())
            .AddTotalTimeout(TimeSpan.FromSeconds(10))
            .Build();

        var layers = pipeline.Describe();

        Assert.Equal(["TotalTimeout", "Retry", "Hedging", "CircuitBreaker", "AttemptTimeout"], layers.Select(static l => l.Kind));
        Assert.Equal("MaxHedgedAttempts=2, Delay=00:00:00.5000000, DelayGenerator=False", layers[2].Summary);
    }

    [Fact]
    public void AddHedging_InvalidOptions_ListsEveryError()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            new ResiliencePipelineBuilder("hedge").AddHedging(new HedgingOptions { MaxHedgedAttempts = 0, Delay = TimeSpan.FromSeconds(-2) }));

        Assert.Equal(2, error.Failures.Count());
        Assert.True(new HedgingOptionsValidator().Validate(null, new HedgingOptions { MaxHedgedAttempts = 11 }).Failed);
        Assert.False(new HedgingOptionsValidator().Validate(null, new HedgingOptions { Delay = Timeout.InfiniteTimeSpan }).Failed);
    }

    [Fact]
    public async Task AddHedging_FromConfiguration_HedgesTheNamedPipeline()
    {
        await using var provider = Container(new()
        {
            ["Resilience:Pipelines:llm:TotalTimeout"] = "00:00:30",
            ["Resilience:Hedging:llm:MaxHedgedAttempts"] = "2",
            ["Resilience:Hedging:llm:Delay"] = "00:00:00.250",
        });
        var pipeline = provider.GetRequiredKeyedService<ResiliencePipeline>("llm");

        Assert.Equal(["TotalTimeout", "Hedging"], pipeline.Describe().Select(static l => l.Kind));
        Assert.Equal("MaxHedgedAttempts=2, Delay=00:00:00.2500000, DelayGenerator=False", pipeline.Describe()[1].Summary);
        Assert.Equal(1, await pipeline.ExecuteAsync(static (ctx, _) => ctx.HedgedAttempt == 0 ? throw new HttpRequestException("down") : new ValueTask<int>(1), Context(), 0).AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task AddHedging_InvalidConfiguration_FailsAtResolution()
    {
        await using var provider = Container(new() { ["Resilience:Hedging:llm:MaxHedgedAttempts"] = "many" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredKeyedService<ResiliencePipeline>("llm"));
        Assert.Contains("MaxHedgedAttempts", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Container(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddResilience()
            .AddPipeline("llm", configuration.GetSection("Resilience:Pipelines:llm"))
            .AddHedging("llm", configuration.GetSection("Resilience:Hedging:llm"));
        return services.BuildServiceProvider();
    }

    private sealed record Provider(string Name, Breaker Breaker);

    private sealed class RacingCall(Ledger ledger, int attempts)
    {
        private readonly TaskCompletionSource _allStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;

        public Ledger Ledger => ledger;

        public Task AllStartedAsync()
        {
            if (Interlocked.Increment(ref _started) == attempts)
            {
                _allStarted.SetResult();
            }

            return _allStarted.Task;
        }
    }

    private sealed class Ledger
    {
        private int _created;
        private int _disposed;

        public int Created => Volatile.Read(ref _created);

        public int Disposed => Volatile.Read(ref _disposed);

        public Response Create()
        {
            Interlocked.Increment(ref _created);
            return new Response(200, () => Interlocked.Increment(ref _disposed));
        }
    }

    private sealed class Response(int status, Action? onDisposed = null) : IDisposable
    {
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Status => status;

        public bool Disposed => _disposed.Task.IsCompleted;

        public Task WhenDisposed => _disposed.Task;

        public void Dispose()
        {
            if (_disposed.TrySetResult())
            {
                onDisposed?.Invoke();
            }
        }
    }

    private static ResilienceContext Context(CancellationToken cancellationToken = default) => ResilienceContextPool.Shared.Get(null, cancellationToken);
}
