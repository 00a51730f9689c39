using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using Resilience;
using Resilience.CircuitBreaking;
using Resilience.Retry;

namespace Resilience.Core.Tests.Pipeline;

/// <summary>
/// The testing guide's <c>FakeTimeProvider</c> recipe (docs/guide/testing.md), run inside xUnit exactly as the guide
/// prints it (a second test checks the text is the guide's), 20 times: a recipe that works only in a console app is no recipe.
/// </summary>
public sealed class ReadmeFakeTimeRecipeTests
{
    public static TheoryData<int> Runs => [.. Enumerable.Range(1, 20)];

    [Theory]
    [MemberData(nameof(Runs))]
    public async Task Recipe_AsPrinted_OpensAfterThreeAttemptsAndCloses(int run)
    {
        _ = run;

        // README:begin
        // A virtual clock and a seeded random source: the schedule runs without waiting, the same way every run.
        var time = new FakeTimeProvider();
        var pipeline = new ResiliencePipelineBuilder<string>("quotes") { TimeProvider = time, Random = new Random(42) }
            .AddTotalTimeout(TimeSpan.FromSeconds(30))
            .AddRetry(new RetryOptions { MaxRetries = 3, BaseDelay = TimeSpan.FromSeconds(1), Jitter = RetryJitter.Full })
            .AddCircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 3, BreakDuration = TimeSpan.FromSeconds(30) })
            .AddAttemptTimeout(TimeSpan.FromSeconds(2))
            .Build();

        // 1. The composition, outermost first, whether built in code or from configuration.
        foreach (var layer in pipeline.Describe())
        {
            Console.WriteLine(layer); // TotalTimeout(Timeout=00:00:30), Retry(MaxRetries=3, …), CircuitBreaker(…), AttemptTimeout(…)
        }

        // 2. A dependency that fails every call: the retries back off on the virtual clock, the third failure opens the circuit,
        //    and the open circuit ends the retries. Each Advance runs the delay that is due, and the attempt after it, at once.
        //    Drive the clock inside Task.Run: there is no SynchronizationContext there (xUnit's would queue each continuation
        //    instead of running it inside Advance, and the loop would race the clock past the retries).
        var attempts = new StrongBox<int>();
        var outcome = await Task.Run(async () =>
        {
            var call = pipeline.ExecuteOutcomeAsync(static (counter, ct) =>
            {
                counter.Value++;
                throw new HttpRequestException("upstream down");
            }, attempts, CancellationToken.None);

            while (!call.IsCompleted)
            {
                time.Advance(TimeSpan.FromMilliseconds(100));
            }

            return await call;
        });

        Console.WriteLine($"{attempts.Value} attempts, then {outcome.Exception!.GetType().Name}"); // 3 attempts, then BrokenCircuitException
        Console.WriteLine(pipeline.CircuitBreaker!.State); // Open

        // 3. Once the break has passed, one probe closes the circuit again.
        time.Advance(TimeSpan.FromSeconds(30));
        string quote = await pipeline.ExecuteAsync(static _ => new ValueTask<string>("1.08"), CancellationToken.None);
        Console.WriteLine($"{quote}, circuit {pipeline.CircuitBreaker.State}"); // 1.08, circuit Closed
        // README:end

        Assert.Equal(3, attempts.Value);
        Assert.IsType<BrokenCircuitException>(outcome.Exception);
        Assert.Equal("1.08", quote);
        Assert.Equal(CircuitState.Closed, pipeline.CircuitBreaker.State);
    }

    [Fact]
    public void Recipe_IsTheReadmesBlock()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Resilience.sln")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        var readme = File.ReadAllLines(Path.Combine(root, "docs", "guide", "testing.md"));
        var start = Array.FindIndex(readme, static l => l.StartsWith("// A virtual clock and a seeded random source", StringComparison.Ordinal));
        var end = Array.FindIndex(readme, start, static l => l == "```");
        var test = File.ReadAllLines(Path.Combine(root, "tests", "Resilience.Core.Tests", "Pipeline", "ReadmeFakeTimeRecipeTests.cs"));
        var begin = Array.FindIndex(test, static l => l.Trim() == "// README:begin");
        var stop = Array.FindIndex(test, static l => l.Trim() == "// README:end");

        Assert.True(start > 0, "the recipe is missing from docs/guide/testing.md");
        Assert.Equal(readme[start..end].Select(static l => l.Trim()), test[(begin + 1)..stop].Select(static l => l.Trim()));
    }
}
