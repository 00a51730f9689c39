using Resilience.Time;

namespace Resilience.Core.Tests.Time;

/// <summary>
/// The cached clock, driven tick by tick over a source the test sets, without a ticker thread of its own.
/// </summary>
public sealed class CoarseClockTests
{
    private long _source = 1_000;

    private CoarseClock NewClock() => new(() => Volatile.Read(ref _source), startsTicker: false);

    [Fact]
    public void Milliseconds_FirstRead_ReadsTheSourceAndStartsTheTicker()
    {
        var clock = NewClock();

        Assert.Equal(1_000, clock.Milliseconds);
        Assert.True(clock.IsRunning);
    }

    [Fact]
    public void Milliseconds_WhileRunning_IsTheValueOfTheLastTick()
    {
        var clock = NewClock();
        _ = clock.Milliseconds;

        Volatile.Write(ref _source, 1_005);
        clock.Tick();
        Volatile.Write(ref _source, 1_009);

        // The source moved on, the field did not: a read costs a memory read, not a system call.
        Assert.Equal(1_005, clock.Milliseconds);
        clock.Tick();
        Assert.Equal(1_009, clock.Milliseconds);
    }

    [Fact]
    public void Tick_ReadEveryTick_NeverParks()
    {
        var clock = NewClock();
        for (int i = 0; i < CoarseClock.IdleTicksBeforePark * 2; i++)
        {
            _ = clock.Milliseconds;
            Assert.True(clock.Tick());
        }

        Assert.True(clock.IsRunning);
    }

    [Fact]
    public void Tick_NoReadsForTheIdleTicks_ParksAndTheNextReadIsFreshFromTheSource()
    {
        var clock = NewClock();
        _ = clock.Milliseconds;

        bool running = true;
        int ticks = 0;
        while (running && ticks <= CoarseClock.IdleTicksBeforePark + 1)
        {
            running = clock.Tick();
            ticks++;
        }

        Assert.False(running);
        Assert.False(clock.IsRunning);

        // Parked for hours: the stale field must never be served.
        Volatile.Write(ref _source, 9_000_000);
        Assert.Equal(9_000_000, clock.Milliseconds);
        Assert.True(clock.IsRunning);
        Assert.Equal(9_000_000, clock.Milliseconds);
    }

    [Fact]
    public void Shared_ReadTwice_NeverGoesBackwardAndStaysNearTheSystemClock()
    {
        long before = Environment.TickCount64;
        long first = CoarseClock.Shared.Milliseconds;
        long second = CoarseClock.Shared.Milliseconds;
        long after = Environment.TickCount64;

        Assert.True(second >= first, $"{second} < {first}");
        Assert.True(first <= after, $"{first} is ahead of the system clock ({after})");

        // One tick behind normally; the bound is loose because a loaded CI machine can starve the ticker for a while.
        Assert.True(first >= before - 5_000, $"{first} lags the system clock ({before}) by more than 5 s");
    }
}
