using Npgsql;
using Polly;
using Polly.Retry;
using PollyPipeline = Polly.ResiliencePipeline;
using PollyPipelineBuilder = Polly.ResiliencePipelineBuilder;

namespace Resilience.Chaos.Baselines;

/// <summary>
/// What a user would otherwise write: Npgsql with a Polly retry on <see cref="NpgsqlException.IsTransient"/> — three
/// retries, 100 ms exponential backoff with jitter (the same schedule as our database preset), nothing else.
/// </summary>
internal static class UsualNpgsqlStack
{
    public static PollyPipeline CreateRetry() => new PollyPipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(static e => e.IsTransient),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(100),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();
}
