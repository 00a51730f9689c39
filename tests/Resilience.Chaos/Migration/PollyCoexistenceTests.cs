// One file that uses both libraries, as a project migrating piece by piece writes it (Microsoft's HTTP resilience package
// brings Polly in). With both namespaces imported, ResiliencePipeline, ResiliencePipelineBuilder and Outcome<T> are
// ambiguous (CS0104); an alias in the file, or a global using in the project, settles it: an alias wins over a type
// imported from a namespace. A generic name cannot be aliased open, so Outcome<T> is written qualified. These lines are the ones docs/migrating-from-polly.md shows; this file compiling is the check.
using Polly;
using Resilience;
using Resilience.Retry;
using Outcome = Resilience.Outcome;
using PollyPipeline = Polly.ResiliencePipeline;
using PollyPipelineBuilder = Polly.ResiliencePipelineBuilder;
using ResiliencePipeline = Resilience.ResiliencePipeline;
using ResiliencePipelineBuilder = Resilience.ResiliencePipelineBuilder;

namespace Resilience.Chaos.Migration;

/// <summary>Both libraries in one file: ours under its own names, Polly's under aliases, each running its own pipeline.</summary>
public sealed class PollyCoexistenceTests
{
    [Fact]
    public async Task BothLibrariesInOneFile_AliasesResolveTheSharedNames_BothPipelinesRun()
    {
        ResiliencePipeline ours = new ResiliencePipelineBuilder("orders")
            .AddRetry(new RetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.Zero })
            .Build();
        PollyPipeline polly = new PollyPipelineBuilder()
            .AddRetry(new Polly.Retry.RetryStrategyOptions { MaxRetryAttempts = 2, Delay = TimeSpan.Zero })
            .Build();
        var oursCalls = 0;
        var pollyCalls = 0;

        var fromOurs = await ours.ExecuteAsync(_ => ++oursCalls < 3 ? throw new TimeoutException() : ValueTask.FromResult(oursCalls), CancellationToken.None);
        var fromPolly = await polly.ExecuteAsync(_ => ++pollyCalls < 3 ? throw new TimeoutException() : ValueTask.FromResult(pollyCalls), CancellationToken.None);
        Resilience.Outcome<int> outcome = Outcome.FromResult(fromOurs);

        Assert.Equal(3, fromOurs);
        Assert.Equal(3, fromPolly);
        Assert.Equal(3, outcome.Result);
    }
}
