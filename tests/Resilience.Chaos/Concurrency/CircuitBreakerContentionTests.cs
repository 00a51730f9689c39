using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using Resilience.Chaos.Reporting;
using Resilience.CircuitBreaking;
using Resilience.Telemetry;
using Xunit.Abstractions;

namespace Resilience.Chaos.Concurrency;

/// <summary>
/// Scenario 5 (concurrency), circuit breaker: many callers on their own threads while the clock moves under them. Each
/// round checks exact invariants while no caller runs: probes admitted, transitions, rejections, window counts.
/// </summary>
public sealed class CircuitBreakerContentionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void HalfOpen_CallersRaceTheClock_AdmitsExactlyPermittedProbesEveryRound(int permittedProbes)
    {
        var time = new FakeTimeProvider();
        long observedTransitions = 0;

        // The metric counts every rejection; the snapshot's figure is a lower bound (an open circuit counts without a
        // lock prefix), so exactness is checked on the metric.
        long metricRejections = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = static (instrument, l) =>
        {
            if (instrument.Meter.Name == ResilienceTelemetry.MeterName && instrument.Name == "resilience.circuit_breaker.rejections")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == ResilienceTelemetry.NameTag && (string?)tag.Value == "contended-probes")
                {
                    Interlocked.Add(ref metricRejections, value);
                }
            }
        });
        listener.Start();

        var breaker = new CircuitBreaker("contended-probes", new CircuitBreakerOptions
        {
            FailureThreshold = 1,
            BreakDuration = Break,
            PermittedProbes = permittedProbes,
            OnStateChanged = _ => Interlocked.Increment(ref observedTransitions),
        }, time);
        Trip(breaker);

        var callers = ContendedRounds.Callers;
        var permits = new List<CircuitPermit>[callers];
        for (var i = 0; i < callers; i++)
        {
            permits[i] = [];
        }

        long refused = 0;
        var advanced = false;
        var maxAdmitted = 0;
        var rounds = ContendedRounds.Run(
            ChaosRun.Repetitions(400),
            ChaosRun.Budget(TimeSpan.FromSeconds(8)),
            (caller, round) =>
            {
                // Caller 0 is also the clock: it ends the break while the others keep asking, so the half-open
                // transition and the probe admissions race the rejections.
                var attemptsAfterBreak = 0;
                for (var attempt = 0; attemptsAfterBreak < 64; attempt++)
                {
                    if (caller == 0 && attempt == 16)
                    {
                        time.Advance(Break);
                        Volatile.Write(ref advanced, true);
                    }

                    var afterBreak = Volatile.Read(ref advanced);
                    if (breaker.TryAcquire(out var permit))
                    {
                        permits[caller].Add(permit);
                    }
                    else
                    {
                        Interlocked.Increment(ref refused);
                    }

                    if (afterBreak)
                    {
                        attemptsAfterBreak++;
                    }
                }
            },
            round =>
            {
                var admitted = 0;
                foreach (var list in permits)
                {
                    foreach (var permit in list)
                    {
                        Assert.True(permit.IsProbe, "a permit handed out while the circuit was not closed must be a probe");
                        admitted++;
                    }
                }

                Assert.Equal(permittedProbes, admitted);
                Assert.Equal(CircuitState.HalfOpen, breaker.State);
                maxAdmitted = Math.Max(maxAdmitted, admitted);

                // Even rounds: every probe succeeds, the circuit closes, one failure trips it again.
                // Odd rounds: the last probe fails, the circuit re-opens (the others' reports are then ignored).
                var all = permits.SelectMany(static p => p).ToList();
                if (round % 2 == 0)
                {
                    all.ForEach(static p => p.Succeeded());
                    Assert.Equal(CircuitState.Closed, breaker.State);
                    Trip(breaker);
                }
                else
                {
                    all[^1].Failed();
                    all.ForEach(static p => p.Succeeded());
                }

                Assert.Equal(CircuitState.Open, breaker.State);
                foreach (var list in permits)
                {
                    list.Clear();
                }

                Volatile.Write(ref advanced, false);
            });

        var snapshot = breaker.GetSnapshot();
        var expectedTransitions = 1 + rounds + (rounds + 1) / 2 * 2 + rounds / 2;
        new FigureTable("Scenario 5 — half-open under contention", "permitted probes", "callers", "rounds", "most probes admitted in a round", "refusals counted by callers", "rejections in metric / snapshot (lower bound)", "transitions (callback / snapshot / expected)")
            .Row(permittedProbes, callers, rounds, maxAdmitted, refused, $"{Interlocked.Read(ref metricRejections)} / {snapshot.Rejections}", $"{observedTransitions} / {snapshot.Transitions} / {expectedTransitions}")
            .Print(output);

        Assert.True(rounds >= 50, $"only {rounds} rounds ran");
        Assert.Equal(refused, Interlocked.Read(ref metricRejections));
        Assert.InRange(snapshot.Rejections, 1, refused);
        Assert.Equal(expectedTransitions, snapshot.Transitions);
        Assert.Equal(expectedTransitions, Interlocked.Read(ref observedTransitions));
    }

    [Fact]
    public void FailureRatio_BucketsRotateUnderContention_WindowCountsExactAndTripsOnce()
    {
        // 10 buckets of 100 ms; the clock moves three buckets during every round, so callers record into buckets
        // that other callers are rotating at that moment.
        const int Buckets = 10;
        var bucket = TimeSpan.FromMilliseconds(100);
        const int AdvancesPerRound = 3;
        const int CallsPerCaller = 300;
        var time = new FakeTimeProvider();
        var breaker = new CircuitBreaker("contended-window", new CircuitBreakerOptions
        {
            Mode = CircuitBreakerMode.FailureRatio,
            SamplingDuration = bucket * Buckets,
            SamplingBuckets = Buckets,
            MinimumThroughput = int.MaxValue,
        }, time);

        var callers = ContendedRounds.Callers;
        var callsPerRound = callers * CallsPerCaller;
        var failuresPerRound = Enumerable.Range(0, callers).Sum(static c => Enumerable.Range(0, CallsPerCaller).Count(i => IsFailure(c, i)));
        var worstLowSlack = int.MaxValue;
        var rounds = ContendedRounds.Run(
            ChaosRun.Repetitions(300),
            ChaosRun.Budget(TimeSpan.FromSeconds(8)),
            (caller, _) =>
            {
                for (var i = 0; i < CallsPerCaller; i++)
                {
                    if (caller == 0 && i % (CallsPerCaller / AdvancesPerRound) == CallsPerCaller / AdvancesPerRound / 2)
                    {
                        time.Advance(bucket);
                    }

                    Assert.True(breaker.TryAcquire(out var permit));
                    if (IsFailure(caller, i))
                    {
                        permit.Failed();
                    }
                    else
                    {
                        permit.Succeeded();
                    }
                }
            },
            round =>
            {
                // Round k's calls land in periods [3k, 3k + 3]; after round r the window holds periods end-9 .. end.
                var end = (round + 1) * AdvancesPerRound;
                int fully = 0, partly = 0;
                for (var k = 0; k <= round; k++)
                {
                    if (k * AdvancesPerRound >= end - Buckets + 1)
                    {
                        fully++;
                    }
                    else if ((k * AdvancesPerRound) + AdvancesPerRound >= end - Buckets + 1)
                    {
                        partly++;
                    }
                }

                var snapshot = breaker.GetSnapshot();
                Assert.InRange(snapshot.Calls, fully * callsPerRound, (fully + partly) * callsPerRound);
                Assert.InRange(snapshot.Failures, fully * failuresPerRound, (fully + partly) * failuresPerRound);
                Assert.Equal(CircuitState.Closed, snapshot.State);
                worstLowSlack = Math.Min(worstLowSlack, snapshot.Calls - (fully * callsPerRound));
            });

        Assert.True(rounds >= 30, $"only {rounds} rounds ran");

        // Now the same contention with a threshold: every caller fails at once; the circuit must open exactly once.
        long opened = 0;
        var tripping = new CircuitBreaker("contended-trip", new CircuitBreakerOptions
        {
            Mode = CircuitBreakerMode.FailureRatio,
            SamplingDuration = bucket * Buckets,
            SamplingBuckets = Buckets,
            MinimumThroughput = 100,
            FailureRatio = 0.5,
            BreakDuration = Break,
            OnStateChanged = change => { if (change.To == CircuitState.Open) { Interlocked.Increment(ref opened); } },
        }, time);
        var tripRounds = ContendedRounds.Run(
            ChaosRun.Repetitions(200),
            ChaosRun.Budget(TimeSpan.FromSeconds(4)),
            (caller, _) =>
            {
                for (var i = 0; i < 50; i++)
                {
                    if (caller == 0 && i == 25)
                    {
                        time.Advance(bucket);
                    }

                    if (tripping.TryAcquire(out var permit))
                    {
                        permit.Failed();
                    }
                }
            },
            round =>
            {
                Assert.Equal(round + 1, Interlocked.Read(ref opened));
                Assert.Equal(CircuitState.Open, tripping.State);
                time.Advance(Break);
                Assert.True(tripping.TryAcquire(out var probe));
                probe.Succeeded();
                Assert.Equal(CircuitState.Closed, tripping.State);
                Assert.Equal(0, tripping.GetSnapshot().Calls);
            });

        new FigureTable("Scenario 5 — failure-ratio window under contention", "callers", "rounds", "calls per round", "window count exact within bucket bounds", "trip rounds", "openings (expected = rounds)")
            .Row(callers, rounds, callsPerRound, "yes", tripRounds, Interlocked.Read(ref opened))
            .Note($"Smallest surplus of the window over the calls it must hold: {worstLowSlack} (late calls of a rotating round are kept, never lost).")
            .Print(output);
        Assert.Equal(tripRounds, Interlocked.Read(ref opened));
    }

    private static bool IsFailure(int caller, int call) => (caller + call) % 3 == 0;

    private static void Trip(CircuitBreaker breaker)
    {
        Assert.True(breaker.TryAcquire(out var permit));
        permit.Failed();
        Assert.Equal(CircuitState.Open, breaker.State);
    }
}
