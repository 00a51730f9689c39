using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;

namespace Resilience.Core.Tests.CircuitBreaking;

public sealed class CircuitBreakerCallbackTests
{
    [Fact]
    public void OnOpenedOnHalfOpenedOnClosed_EachRaisedForItsTransition_AfterOnStateChanged()
    {
        var time = new FakeTimeProvider();
        var seen = new List<string>();
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("cb", new CircuitBreakerOptions
        {
            FailureThreshold = 1,
            BreakDuration = TimeSpan.FromSeconds(1),
            OnStateChanged = c => seen.Add($"changed:{c.To}"),
            OnOpened = c => seen.Add($"opened:{c.From}"),
            OnHalfOpened = _ => seen.Add("half-opened"),
            OnClosed = _ => seen.Add("closed"),
        }, time);

        Assert.True(breaker.TryAcquire(out var first));
        first.Failed(new InvalidOperationException("down"));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(breaker.TryAcquire(out var probe));
        probe.Succeeded();

        Assert.Equal(["changed:Open", "opened:Closed", "changed:HalfOpen", "half-opened", "changed:Closed", "closed"], seen);
    }
}
