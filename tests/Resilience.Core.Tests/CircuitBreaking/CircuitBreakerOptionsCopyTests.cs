using Resilience.CircuitBreaking;

namespace Resilience.Core.Tests.CircuitBreaking;

public sealed class CircuitBreakerOptionsCopyTests
{
    [Fact]
    public void CopyConstructor_CopiesEverySetting()
    {
        Func<Exception, bool> handle = static e => e is TimeoutException;
        Action<CircuitStateChange> changed = static _ => { };
        var source = new CircuitBreakerOptions
        {
            Mode = CircuitBreakerMode.FailureRatio,
            FailureThreshold = 7,
            BreakDuration = TimeSpan.FromSeconds(11),
            FailureRatio = 0.3,
            SamplingDuration = TimeSpan.FromSeconds(40),
            SamplingBuckets = 8,
            MinimumThroughput = 13,
            SlowCallThreshold = TimeSpan.FromSeconds(2),
            PermittedProbes = 3,
            BreakDurationFactor = 1.5,
            MaxBreakDuration = TimeSpan.FromMinutes(3),
            ProbeTimeout = TimeSpan.FromSeconds(4),
            ClusterWide = true,
            ShouldHandle = handle,
            OnStateChanged = changed,
            OnOpened = changed,
            OnClosed = changed,
            OnHalfOpened = changed,
        };

        var copy = new CircuitBreakerOptions(source);

        // Every public property, so a setting added later cannot be forgotten by the copy.
        foreach (var property in typeof(CircuitBreakerOptions).GetProperties())
        {
            Assert.Equal(property.GetValue(source), property.GetValue(copy));
            Assert.NotEqual(property.GetValue(new CircuitBreakerOptions()), property.GetValue(source));
        }
    }
}
