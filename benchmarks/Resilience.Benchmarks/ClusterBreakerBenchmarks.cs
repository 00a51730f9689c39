using BenchmarkDotNet.Attributes;
using Resilience.Benchmarks.Comparison;
using Resilience.CircuitBreaking;
using Resilience.Cluster;
using Resilience.Npgsql.Cluster;

namespace Resilience.Benchmarks;

/// <summary>
/// The closed path of a cluster-wide breaker against a local one: coordination runs on the coordinator's loop,
/// so a shared breaker's healthy call should cost what a local one's does, with 0 B allocated. The coordinator here is
/// never started (no database is needed): what is measured is the call path of a breaker that has a cluster link.
/// </summary>
[MemoryDiagnoser]
public class ClusterBreakerBenchmarks
{
    private CircuitBreaker _local = null!;
    private CircuitBreaker _shared = null!;
    private ResiliencePipeline _localPipeline = null!;
    private ResiliencePipeline _sharedPipeline = null!;
    private ClusterCoordinator _coordinator = null!;

    [GlobalSetup]
    public void Setup()
    {
        _local = OurSetups.ConsecutiveBreaker();
        _shared = OurSetups.ConsecutiveBreaker();
        // A store that is never contacted: the coordinator's loop is not started.
        _coordinator = new ClusterCoordinator(new PostgresClusterStore("Host=127.0.0.1;Port=1;Database=none"), new ClusterOptions { InstanceId = "bench" });
        _coordinator.Share(_shared);
        _localPipeline = OurSetups.Through(_local);
        _sharedPipeline = OurSetups.Through(_shared);
    }

    [GlobalCleanup]
    public void Cleanup() => _coordinator.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public int Ours_LocalBreaker_TryAcquire() => ThroughPermit(_local);

    [Benchmark]
    public int Ours_SharedBreaker_TryAcquire() => ThroughPermit(_shared);

    [Benchmark]
    public int Ours_LocalBreaker_Execute() => _localPipeline.Execute(Work.SyncWithToken, Work.State);

    [Benchmark]
    public int Ours_SharedBreaker_Execute() => _sharedPipeline.Execute(Work.SyncWithToken, Work.State);

    private static int ThroughPermit(CircuitBreaker breaker)
    {
        if (!breaker.TryAcquire(out var permit))
        {
            return -1;
        }

        var result = Work.Sync(Work.State);
        permit.Succeeded();
        return result;
    }
}
