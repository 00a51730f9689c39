using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Resilience.Retry;

namespace Resilience.Core.Tests.Pipeline;

public sealed class PipelineRandomTests
{
    [Fact]
    public async Task Random_SameSeedOnTheBuilder_GivesTheSameJitteredDelays()
    {
        var first = await RetryDelaysAsync(new Random(42));
        var second = await RetryDelaysAsync(new Random(42));
        var other = await RetryDelaysAsync(new Random(43));

        Assert.Equal(4, first.Count);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task UseRandom_SeededInTheContainer_GivesTheSameJitteredDelays()
    {
        var first = await ContainerDelaysAsync(7);
        var second = await ContainerDelaysAsync(7);

        Assert.Equal(3, first.Count);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Random_Null_Throws() =>
        Assert.Throws<ArgumentNullException>(() => new ResiliencePipelineBuilder("p") { Random = null! });

    private static Task<List<TimeSpan>> RetryDelaysAsync(Random random)
    {
        var time = new FakeTimeProvider();
        var delays = new List<TimeSpan>();
        var pipeline = new ResiliencePipelineBuilder<int>("jitter") { TimeProvider = time, Random = random }
            .AddRetry(JitteredRetry(4, delays))
            .Build();
        return RunAsync(pipeline, time, delays);
    }

    private static async Task<List<TimeSpan>> ContainerDelaysAsync(int seed)
    {
        var time = new FakeTimeProvider();
        var delays = new List<TimeSpan>();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Resilience:Pipelines:db:AttemptTimeout"] = "00:10:00",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddResilience()
            .UseRandom(new Random(seed))
            .AddPipeline<int>("db", configuration.GetSection("Resilience:Pipelines:db"), (b, _) => b.AddRetry(JitteredRetry(3, delays)));
        await using var provider = services.BuildServiceProvider();
        return await RunAsync(provider.GetRequiredKeyedService<ResiliencePipeline<int>>("db"), time, delays);
    }

    private static RetryOptions<int> JitteredRetry(int retries, List<TimeSpan> delays) => new()
    {
        MaxRetries = retries,
        BaseDelay = TimeSpan.FromSeconds(1),
        MaxDelay = TimeSpan.FromSeconds(30),
        Jitter = RetryJitter.Full,
        ShouldHandle = static _ => true,
        OnRetry = a =>
        {
            lock (delays)
            {
                delays.Add(a.Delay);
            }
        },
    };

    // Advances the fake clock until every retry delay has elapsed; each step passes the longest possible delay.
    private static async Task<List<TimeSpan>> RunAsync(ResiliencePipeline<int> pipeline, FakeTimeProvider time, List<TimeSpan> delays)
    {
        var task = pipeline.ExecuteOutcomeAsync<int>(static (_, _) => throw new InvalidOperationException("down"), 0, CancellationToken.None).AsTask();
        for (var step = 0; !task.IsCompleted && step < 100_000; step++)
        {
            time.Advance(TimeSpan.FromSeconds(30));
            await Task.Yield();
        }

        Assert.IsType<InvalidOperationException>((await task).Exception);
        lock (delays)
        {
            return [.. delays];
        }
    }
}
