using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Testing;

namespace Resilience.Core.Tests.CircuitBreaking;

// The synchronous path rents a context from the process-wide pool; test classes running in parallel can empty it for a
// moment (seen in a CI-like run: 512 B per call in all three passes), so these measure alone, as a caller would.
[Collection(Pipeline.ResiliencePipelineAllocationTests.Isolated)]
public sealed class CircuitBreakerAllocationTests
{
    private const int Iterations = 10_000;

    public static TheoryData<CircuitBreakerMode, bool> Modes => new()
    {
        { CircuitBreakerMode.ConsecutiveFailures, false },
        { CircuitBreakerMode.FailureRatio, false },
        { CircuitBreakerMode.ConsecutiveFailures, true },
        { CircuitBreakerMode.FailureRatio, true },
    };

    private static global::Resilience.CircuitBreaking.CircuitBreaker Create(CircuitBreakerMode mode, bool slowCalls) =>
        new("alloc", new CircuitBreakerOptions { Mode = mode, SlowCallThreshold = slowCalls ? TimeSpan.FromSeconds(1) : null }, new FakeTimeProvider());

    [Theory]
    [MemberData(nameof(Modes))]
    public void Execute_ClosedSuccess_DoesNotAllocate(CircuitBreakerMode mode, bool slowCalls)
    {
        var breaker = Create(mode, slowCalls);
        var sum = Run(breaker, 100);

        var allocated = AllocationMeter.Least(() => sum += Run(breaker, Iterations));

        Assert.Equal(0, allocated);
        Assert.Equal(0, (sum - 100) % Iterations);

        static long Run(global::Resilience.CircuitBreaking.CircuitBreaker breaker, int n)
        {
            long sum = 0;
            for (var i = 0; i < n; i++)
            {
                sum += breaker.Execute(static s => s, 1);
            }

            return sum;
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void ExecuteAsync_ClosedCompletedValueTask_DoesNotAllocate(CircuitBreakerMode mode, bool slowCalls)
    {
        var breaker = Create(mode, slowCalls);
        var sum = Run(breaker, 100);

        var allocated = AllocationMeter.Least(() => sum += Run(breaker, Iterations));

        Assert.Equal(0, allocated);
        Assert.Equal(0, (sum - 100) % Iterations);

        static long Run(global::Resilience.CircuitBreaking.CircuitBreaker breaker, int n)
        {
            long sum = 0;
            for (var i = 0; i < n; i++)
            {
                var pending = breaker.ExecuteAsync(static (s, _) => new ValueTask<int>(s), 1, CancellationToken.None);
                Assert.True(pending.IsCompletedSuccessfully);
                sum += pending.Result;
                var outcome = breaker.ExecuteOutcomeAsync(static (s, _) => new ValueTask<int>(s), 0, CancellationToken.None);
                sum += outcome.Result.GetResultOrThrow();
            }

            return sum;
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void ExecuteOutcomeAsync_Open_DoesNotAllocatePerRejection(CircuitBreakerMode mode, bool slowCalls)
    {
        var breaker = Create(mode, slowCalls);
        breaker.Isolate();
        breaker.Reset();
        for (var i = 0; i < 20 && breaker.State == CircuitState.Closed; i++)
        {
            Assert.True(breaker.TryAcquire(out var p));
            p.Failed();
        }

        Assert.Equal(CircuitState.Open, breaker.State);
        var failures = Run(breaker, 100);
        Assert.Equal(0, AllocationMeter.Least(() => failures += Run(breaker, Iterations)));
        Assert.Equal(0, (failures - 100) % Iterations);

        static int Run(global::Resilience.CircuitBreaking.CircuitBreaker breaker, int n)
        {
            var failures = 0;
            for (var i = 0; i < n; i++)
            {
                var pending = breaker.ExecuteOutcomeAsync(static (s, _) => new ValueTask<int>(s), 1, CancellationToken.None);
                Assert.True(pending.IsCompletedSuccessfully);
                failures += pending.Result.HasException ? 1 : 0;
            }

            return failures;
        }
    }

    [Fact]
    public void ExecuteOutcomeAsync_Isolated_DoesNotAllocatePerRejection()
    {
        var breaker = Create(CircuitBreakerMode.ConsecutiveFailures, slowCalls: false);
        breaker.Isolate();
        Reject(breaker, 100);

        var rejected = 0;
        Assert.Equal(0, AllocationMeter.Least(() => rejected = Reject(breaker, Iterations)));
        Assert.Equal(Iterations, rejected);

        static int Reject(global::Resilience.CircuitBreaking.CircuitBreaker breaker, int n)
        {
            var rejected = 0;
            for (var i = 0; i < n; i++)
            {
                var pending = breaker.ExecuteOutcomeAsync(static (s, _) => new ValueTask<int>(s), 1, CancellationToken.None);
                rejected += pending.IsCompletedSuccessfully && pending.Result.Exception is BrokenCircuitException ? 1 : 0;
            }

            return rejected;
        }
    }
}
