using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Cluster;
using Resilience.Testing;

namespace Resilience.Core.Tests.Cluster;

/// <summary>A cluster-wide breaker's closed path costs what an unshared one's does: coordination is never on the call path.</summary>
[Collection(Pipeline.ResiliencePipelineAllocationTests.Isolated)]
public sealed class SharedBreakerAllocationTests
{
    [Fact]
    public async Task TryAcquire_SharedBreakerClosed_DoesNotAllocate()
    {
        var time = new FakeTimeProvider();
        await using var coordinator = new ClusterCoordinator(new InMemoryClusterStore(new InMemoryCluster(time)), timeProvider: time);
        var breaker = new CircuitBreaker("alloc", new CircuitBreakerOptions(), time);
        coordinator.Share(breaker);
        await coordinator.RunRoundAsync(CancellationToken.None);
        var sum = Run(breaker, 100);

        var allocated = AllocationMeter.Least(() => sum += Run(breaker, 10_000));

        Assert.Equal(0, allocated);
        Assert.Equal(0, (sum - 100) % 10_000); // every call admitted
    }

    private static long Run(CircuitBreaker breaker, int calls)
    {
        long admitted = 0;
        for (var i = 0; i < calls; i++)
        {
            if (breaker.TryAcquire(out var permit))
            {
                permit.Succeeded();
                admitted++;
            }
        }

        return admitted;
    }
}
