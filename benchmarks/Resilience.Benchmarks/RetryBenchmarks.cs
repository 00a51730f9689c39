using BenchmarkDotNet.Attributes;
using Polly;
using Resilience.Benchmarks.Comparison;
using Resilience.Retry;

namespace Resilience.Benchmarks;

/// <summary>
/// Retry: the first-try success every healthy call takes, and one failure followed by a success with a zero delay
/// (the failure as a -1 result, and as a thrown <see cref="InvalidOperationException"/>). Both libraries: 3 retries,
/// exponential backoff with jitter, the same predicates.
/// </summary>
[MemoryDiagnoser]
public class RetryBenchmarks
{
    private ResiliencePipeline<int> _ours = null!;
    private Polly.ResiliencePipeline<int> _polly = null!;
    private FlakyOperation _failsWithResult = null!;
    private FlakyOperation _failsWithException = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ours = OurSetups.Retry();
        _polly = PollySetups.Retry();
        _failsWithResult = new FlakyOperation(throws: false);
        _failsWithException = new FlakyOperation(throws: true);
    }

    [Benchmark(Baseline = true)]
    public ValueTask<int> Bare_Async() => Work.Async(Work.State, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Ours_FirstTry_ExecuteAsync() => _ours.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [Benchmark]
    public int Ours_FirstTry_Execute() => _ours.Execute(Work.SyncWithToken, Work.State, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Polly_FirstTry_ExecuteAsync() => _polly.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Ours_OneFailedResult_ExecuteAsync() => _ours.ExecuteAsync(FlakyOperation.Async, _failsWithResult, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Polly_OneFailedResult_ExecuteAsync() => _polly.ExecuteAsync(FlakyOperation.Async, _failsWithResult, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Ours_OneException_ExecuteAsync() => _ours.ExecuteAsync(FlakyOperation.Async, _failsWithException, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Polly_OneException_ExecuteAsync() => _polly.ExecuteAsync(FlakyOperation.Async, _failsWithException, CancellationToken.None);
}
