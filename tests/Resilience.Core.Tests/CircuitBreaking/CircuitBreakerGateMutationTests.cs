using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Cluster;
using Resilience.Core.Tests.Cluster;

namespace Resilience.Core.Tests.CircuitBreaking;

/// <summary>
/// What the breaker gained with the gate reshape, at its exact edges: the "circuit closed" wake its rejections carry, the
/// cluster hooks (opened or closed by the cluster, a probe deferred to another instance), and the pipeline layer's
/// verdicts. Written against the Stryker survivors of the state machine files (see tests/Resilience.Core.Tests/stryker-breaker.json).
/// </summary>
public sealed class CircuitBreakerGateMutationTests : IAsyncDisposable
{
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Sync = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<CircuitStateChange> _changes = [];
    private ClusterCoordinator? _coordinator;

    public async ValueTask DisposeAsync()
    {
        if (_coordinator is not null)
        {
            await _coordinator.DisposeAsync();
        }
    }

    private global::Resilience.CircuitBreaking.CircuitBreaker Create(Action<CircuitBreakerOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new CircuitBreakerOptions
        {
            FailureThreshold = 2,
            BreakDuration = Break,
            ProbeTimeout = TimeSpan.FromSeconds(30),
            OnStateChanged = c => _changes.Add(c),
        };
        configure?.Invoke(options);
        return new global::Resilience.CircuitBreaking.CircuitBreaker("gate", options, time ?? _time);
    }

    private static void Fail(global::Resilience.CircuitBreaking.CircuitBreaker breaker, int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.True(breaker.TryAcquire(out var permit));
            permit.Failed();
        }
    }

    /// <summary>The rejection the pipeline would hand out now (the shared one of the state refusing).</summary>
    private static BrokenCircuitException Rejection(global::Resilience.CircuitBreaking.CircuitBreaker breaker)
    {
        Assert.False(breaker.TryAcquire(out var refused));
        return Assert.IsType<BrokenCircuitException>(breaker.GetCachedRejection(in refused).SourceException);
    }

    /// <summary>A link to a connected cluster, attached to the breaker the way <see cref="ClusterCoordinator.Share"/> does.</summary>
    private async Task<ClusterBreakerLink> LinkAsync(global::Resilience.CircuitBreaking.CircuitBreaker breaker)
    {
        _coordinator = new ClusterCoordinator(
            new InMemoryClusterStore(new InMemoryCluster(_time)),
            new ClusterOptions { InstanceId = "me", SyncInterval = Sync, LeaseTime = TimeSpan.FromSeconds(3) },
            _time);
        await _coordinator.RunRoundAsync(CancellationToken.None);
        Assert.True(_coordinator.IsConnected);
        var link = new ClusterBreakerLink(_coordinator, breaker);
        breaker.Cluster = link;
        return link;
    }

    [Fact]
    public void CircuitClosed_OneSignalPerOutage_KeptThroughHalfOpenAndReopening_CancelledOnClose_FreshForTheNext()
    {
        var breaker = Create();
        Fail(breaker, 2);
        var opened = Rejection(breaker).CircuitClosed;
        Assert.True(opened.CanBeCanceled);
        Assert.False(opened.IsCancellationRequested);

        // A failed probe re-opens the same outage: the signal stays.
        _time.Advance(Break);
        Assert.True(breaker.TryAcquire(out var probe));
        var probing = Rejection(breaker).CircuitClosed;
        probe.Failed();
        var reopened = Rejection(breaker).CircuitClosed;
        Assert.Equal(opened, probing);
        Assert.Equal(opened, reopened);
        Assert.False(opened.IsCancellationRequested);

        _time.Advance(Break);
        Assert.True(breaker.TryAcquire(out probe));
        probe.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(opened.IsCancellationRequested);

        // The next outage waits on a new signal, not the one already cancelled.
        Fail(breaker, 2);
        var next = Rejection(breaker).CircuitClosed;
        Assert.NotEqual(opened, next);
        Assert.False(next.IsCancellationRequested);
    }

    [Fact]
    public void CircuitClosed_ResetOfAnOpenCircuit_WakesTheWaiters()
    {
        var breaker = Create();
        Fail(breaker, 2);
        var closed = Rejection(breaker).CircuitClosed;

        breaker.Reset();

        Assert.True(closed.IsCancellationRequested);
    }

    [Fact]
    public void CircuitClosed_IsolatedRejection_HasNoSignalToWaitFor()
    {
        var breaker = Create();
        Fail(breaker, 2);
        breaker.Isolate();

        var rejection = Rejection(breaker);

        Assert.Equal(CircuitState.Isolated, rejection.State);
        Assert.False(rejection.CircuitClosed.CanBeCanceled);
    }

    [Fact]
    public void OpenFromCluster_Closed_OpensForTheBreakLeft_AndReportsTheClustersBreak()
    {
        var breaker = Create();

        breaker.OpenFromCluster(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(40));

        Assert.Equal(CircuitState.Open, breaker.State);
        var change = Assert.Single(_changes);
        Assert.Equal((CircuitState.Closed, CircuitState.Open, CircuitTransitionReason.Cluster), (change.From, change.To, change.Reason));
        Assert.False(breaker.TryAcquire(out var refused));
        Assert.Equal(TimeSpan.FromSeconds(4), refused.RemainingBreak);
        Assert.Equal(TimeSpan.FromSeconds(40), breaker.CurrentBreak);
        Assert.Equal(TimeSpan.FromSeconds(40), breaker.GetSnapshot().BreakDuration);
        Assert.False(Rejection(breaker).CircuitClosed.IsCancellationRequested);

        _time.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromTicks(1));
        Assert.False(breaker.TryAcquire(out _));
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True(breaker.TryAcquire(out var probe));
        Assert.True(probe.IsProbe);
    }

    [Fact]
    public void OpenFromCluster_HalfOpen_ReopensFromHalfOpen()
    {
        var breaker = Create();
        Fail(breaker, 2);
        _time.Advance(Break);
        Assert.True(breaker.TryAcquire(out var probe));
        _changes.Clear();

        breaker.OpenFromCluster(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(20));

        var change = Assert.Single(_changes);
        Assert.Equal((CircuitState.HalfOpen, CircuitState.Open, CircuitTransitionReason.Cluster), (change.From, change.To, change.Reason));
        probe.Succeeded();
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void OpenFromCluster_Isolated_StaysIsolated()
    {
        var breaker = Create();
        breaker.Isolate();
        _changes.Clear();

        breaker.OpenFromCluster(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(40));

        Assert.Equal(CircuitState.Isolated, breaker.State);
        Assert.Empty(_changes);
        Assert.Equal(Break, breaker.CurrentBreak);
    }

    [Theory]
    [InlineData(CircuitState.Open)]
    [InlineData(CircuitState.HalfOpen)]
    public void CloseFromCluster_OpenOrHalfOpen_Closes_AndWakesTheWaiters(CircuitState from)
    {
        var breaker = Create();
        Fail(breaker, 2);
        var closed = Rejection(breaker).CircuitClosed;
        if (from == CircuitState.HalfOpen)
        {
            _time.Advance(Break);
            Assert.True(breaker.TryAcquire(out _));
        }

        _changes.Clear();

        breaker.CloseFromCluster();

        var change = Assert.Single(_changes);
        Assert.Equal((from, CircuitState.Closed, CircuitTransitionReason.Cluster), (change.From, change.To, change.Reason));
        Assert.True(closed.IsCancellationRequested);
        Assert.True(breaker.TryAcquire(out var permit));
        Assert.False(permit.IsProbe);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CloseFromCluster_ClosedOrIsolated_ChangesNothing(bool isolated)
    {
        var breaker = Create();
        Fail(breaker, 1);
        if (isolated)
        {
            breaker.Isolate();
        }

        _changes.Clear();

        breaker.CloseFromCluster();

        Assert.Empty(_changes);
        Assert.Equal(isolated ? CircuitState.Isolated : CircuitState.Closed, breaker.State);
        if (!isolated)
        {
            // The pending failure still counts: one more opens.
            Fail(breaker, 1);
            Assert.Equal(CircuitState.Open, breaker.State);
        }
    }

    [Fact]
    public async Task TryAcquire_BreakOverWhileAnotherInstanceProbes_StaysOpenAndLooksAgainAfterOneSync()
    {
        var breaker = Create();
        var link = await LinkAsync(breaker);
        Fail(breaker, 2);
        link.Followed = 7;
        link.ProbeEpoch = 0;
        Assert.False(link.MayProbe);
        _time.Advance(Break);
        _changes.RemoveAll(c => c.To == CircuitState.Open);

        Assert.False(breaker.TryAcquire(out var deferred));
        Assert.Equal(CircuitState.Open, deferred.RefusedBy);
        Assert.Equal(Sync, deferred.RemainingBreak);

        // Half a sync later the deferral has not moved: the timer that ended the break no longer counts.
        _time.Advance(Sync / 2);
        Assert.False(breaker.TryAcquire(out var later));
        Assert.Equal(Sync / 2, later.RemainingBreak);

        // This instance now holds the cluster's probe: the wait's own timer lets the next call probe.
        link.ProbeEpoch = 7;
        _time.Advance(Sync / 2);
        Assert.True(breaker.TryAcquire(out var probe));
        Assert.True(probe.IsProbe);
        Assert.Equal(CircuitState.HalfOpen, Assert.Single(_changes).To);
    }

    [Fact]
    public async Task TryAcquire_BreakOverAndThisInstanceMayProbe_TurnsHalfOpen()
    {
        var breaker = Create();
        var link = await LinkAsync(breaker);
        Fail(breaker, 2);
        link.Followed = 7;
        link.ProbeEpoch = 7;
        _time.Advance(Break);

        Assert.True(breaker.TryAcquire(out var probe));

        Assert.True(probe.IsProbe);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }
    [Fact]
    public async Task Pipeline_ExceptionShouldHandleDeclines_CountsAsSuccess_ClearingThePendingFailure()
    {
        var breaker = Create(o => o.ShouldHandle = static e => e is not ArgumentException);
        Fail(breaker, 1);

        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await breaker.ExecuteAsync<int, int>(static (_, _) => throw new ArgumentException("bad input"), 0, CancellationToken.None));

        Fail(breaker, 1);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(1, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public async Task Pipeline_ClosedAgainAfterAnOutage_RunsEveryCall()
    {
        var breaker = Create();
        var pipeline = breaker.Pipeline();
        Fail(breaker, 2);
        breaker.Reset();

        // The opening's rejection is still cached: the fast refusal must look at the state, not at the cache.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(i, await pipeline.ExecuteAsync(static (s, _) => new ValueTask<int>(s), i, CancellationToken.None));
        }

        Assert.Equal(0, breaker.GetSnapshot().Rejections);
    }

    [Fact]
    public void Describe_EachMode_SummarisesTheBreakersSettingsInForce()
    {
        var breaker = Create(o =>
        {
            o.FailureThreshold = 3;
            o.MaxBreakDuration = TimeSpan.FromMinutes(2);
            o.PermittedProbes = 2;
        });
        var pipeline = new ResiliencePipelineBuilder("p") { TimeProvider = _time }.AddCircuitBreaker(breaker).Build();

        var layer = Assert.Single(pipeline.Describe());
        Assert.Equal("CircuitBreaker", layer.Kind);
        Assert.Equal("Name=gate, Mode=ConsecutiveFailures, FailureThreshold=3, BreakDuration=00:00:10, MaxBreakDuration=00:02:00, PermittedProbes=2", layer.Summary);

        breaker.UpdateOptions(new CircuitBreakerOptions
        {
            Mode = CircuitBreakerMode.FailureRatio,
            FailureRatio = 0.25,
            SamplingDuration = TimeSpan.FromSeconds(20),
            MinimumThroughput = 7,
            SlowCallThreshold = TimeSpan.FromMilliseconds(1500),
            BreakDuration = TimeSpan.FromSeconds(5),
            MaxBreakDuration = TimeSpan.FromMinutes(1),
            PermittedProbes = 3,
        });

        layer = Assert.Single(pipeline.Describe());
        Assert.Equal(
            "Name=gate, Mode=FailureRatio, FailureRatio=0.25, SamplingDuration=00:00:20, MinimumThroughput=7, SlowCallThreshold=00:00:01.5000000, BreakDuration=00:00:05, MaxBreakDuration=00:01:00, PermittedProbes=3",
            layer.Summary);
        Assert.Equal(0.25, Assert.IsType<CircuitBreakerOptions>(layer.Options).FailureRatio);
    }
    [Fact]
    public async Task Transition_OpenedOnItsOwnCounts_VotesInTheCluster_OpenedByTheClusterDoesNot()
    {
        var breaker = Create();
        var link = await LinkAsync(breaker);

        Fail(breaker, 2);

        Assert.True(link.TakeVote());
        breaker.Reset();
        Assert.False(link.TakeVote());
        breaker.OpenFromCluster(Break, Break);
        Assert.False(link.TakeVote());
    }

    [Fact]
    public async Task TryAcquire_TimerLate_ClockSaysTheBreakIsOver_AnotherInstanceProbes_StaysOpen()
    {
        var breaker = Create(time: new SilentTimerTimeProvider(_time));
        var link = await LinkAsync(breaker);
        Fail(breaker, 2);
        link.Followed = 7;
        _time.Advance(Break);

        // The 64th rejection reads the clock (the timer never fires): the break is over exactly now, and the probe is deferred.
        CircuitPermit refused = default;
        for (var i = 0; i < 64; i++)
        {
            Assert.False(breaker.TryAcquire(out refused));
        }

        Assert.Equal(Sync, refused.RemainingBreak);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task TryAcquire_TimerEndedTheBreakBeforeTheClock_AnotherInstanceProbes_StaysOpen()
    {
        var time = new ManualTimerTimeProvider(_time);
        var breaker = Create(time: time);
        var link = await LinkAsync(breaker);
        Fail(breaker, 2);
        link.Followed = 7;
        _time.Advance(Break / 2);
        time.FireAll();

        Assert.False(breaker.TryAcquire(out var refused));

        Assert.Equal(Sync, refused.RemainingBreak);
        Assert.Equal(CircuitState.Open, breaker.State);
    }
}
