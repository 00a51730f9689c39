using Resilience.Time;

namespace Resilience.Timeouts;

/// <summary>
/// Cancels pooled token sources at coarse deadlines (system clock only) without touching the runtime's timer queue:
/// arming is a few plain writes to a slot the thread owns, disarming one interlocked operation, where the timer queue
/// costs two locked updates per call.
/// </summary>
/// <remarks>
/// <para>
/// A fixed table of slots, each a state word (a version and Free, Claimed, Armed or Firing), the source and its due time
/// in <see cref="CoarseClock"/> milliseconds (arming and scanning read the same clock, so a lagging clock delays a
/// timeout, never advances it). The first half of the table is handed out one slot per thread, which arms it without
/// claiming it; a thread whose slot is still armed (its call went asynchronous) or that came too late for one claims a
/// slot of the second half with a compare-and-swap. The clock's ticker thread scans the table every
/// <see cref="Period"/> and cancels the sources that are due; it never parks while a slot is armed, and a thread pool
/// starved during an outage cannot delay it. Used only for limits of at least <see cref="MinimumLimit"/>, where firing up
/// to one period late is noise; shorter limits, a full table and other time providers use <c>CancelAfter</c>.
/// </para>
/// <para>
/// A disarm that loses the race to the scanner (the slot is already firing) tells the caller so: that source may be
/// cancelled at any moment and must never go back to the pool.
/// </para>
/// </remarks>
internal sealed class CoarseTimer : ITickListener
{
    /// <summary>How often due slots are looked for.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(15);

    /// <summary>The shortest limit armed here: a period late is at most 1.5 % of it.</summary>
    public static readonly TimeSpan MinimumLimit = TimeSpan.FromSeconds(1);

    public static readonly CoarseTimer Shared = new(CoarseClock.Shared);

    private const long Free = 0;
    private const long Claimed = 1;
    private const long Armed = 2;
    private const long Firing = 3;
    private const long KindMask = 3;
    private const int SlotCount = 512;
    private const int OwnedSlots = SlotCount / 2;
    private const int SharedSlots = SlotCount - OwnedSlots;
    private const int Probes = 16;

    private const int NoOwnedSlot = -1;

    // The slot this thread arms without claiming: its index + 1, 0 before the first arm, NoOwnedSlot once none was left.
    // Handed out process-wide, so the index is this thread's alone in every table.
    [ThreadStatic]
    private static int t_ownedSlot;
    private static int s_ownedHandedOut;

    private readonly CoarseClock _clock;
    private readonly long _periodMilliseconds = (long)Period.TotalMilliseconds;
    private readonly long[] _states = new long[SlotCount];
    private readonly CancellationTokenSource?[] _sources = new CancellationTokenSource?[SlotCount];
    private readonly long[] _due = new long[SlotCount];
    private long _nextScan;
    private bool _anyArmed;

    internal CoarseTimer(CoarseClock clock)
    {
        _clock = clock;
        clock.Listen(this);
    }

    /// <summary>Arms <paramref name="source"/> to be cancelled after <paramref name="limit"/>.</summary>
    /// <returns>The registration to pass to <see cref="TryDisarm"/>, or <see langword="default"/> when the table is full.</returns>
    public Registration TryArm(CancellationTokenSource source, TimeSpan limit)
    {
        long due = _clock.Milliseconds + (long)limit.TotalMilliseconds;
        int owned = t_ownedSlot;
        if (owned == 0)
        {
            owned = t_ownedSlot = HandOutSlot();
        }

        if (owned > 0)
        {
            int index = owned - 1;
            long word = Volatile.Read(ref _states[index]);
            if ((word & KindMask) == Free)
            {
                // Only this thread arms its slot; the scanner and a disarm on another thread only move it out of Armed.
                return Publish(index, word, source, due);
            }
        }

        int start = OwnedSlots + ((Thread.GetCurrentProcessorId() * Probes) & (SharedSlots - 1));
        for (int i = 0; i < Probes; i++)
        {
            int index = OwnedSlots + ((start + i) & (SharedSlots - 1));
            long word = Volatile.Read(ref _states[index]);
            if ((word & KindMask) != Free)
            {
                continue;
            }

            long claimed = (word & ~KindMask) | Claimed;
            if (Interlocked.CompareExchange(ref _states[index], claimed, word) == word)
            {
                return Publish(index, claimed, source, due);
            }
        }

        return default;
    }

    /// <summary>Disarms a registration.</summary>
    /// <returns><see langword="false"/> when the scanner got there first: the source is (or is about to be) cancelled.</returns>
    public bool TryDisarm(in Registration registration) =>
        Interlocked.CompareExchange(ref _states[registration.Index], registration.Armed & ~KindMask, registration.Armed) == registration.Armed;

    /// <summary>Scans every <see cref="Period"/>, on the clock's ticker thread.</summary>
    /// <returns><see langword="true"/> while a slot is armed, so the ticker does not park.</returns>
    bool ITickListener.OnTick(long nowMilliseconds)
    {
        if (nowMilliseconds >= _nextScan)
        {
            _nextScan = nowMilliseconds + _periodMilliseconds;
            _anyArmed = Scan(nowMilliseconds);
        }

        return _anyArmed;
    }

    /// <summary>Looks for an armed or claimed slot.</summary>
    /// <returns><see langword="true"/> when one is.</returns>
    bool ITickListener.HasWork()
    {
        for (int index = 0; index < SlotCount; index++)
        {
            long kind = Volatile.Read(ref _states[index]) & KindMask;
            if (kind == Armed || kind == Claimed)
            {
                return true;
            }
        }

        return false;
    }

    private Registration Publish(int index, long word, CancellationTokenSource source, long due)
    {
        long armed = (((word >> 2) + 1) << 2) | Armed;
        _sources[index] = source;
        _due[index] = due;

        // A release write: the scanner that sees Armed sees this source and due time.
        Volatile.Write(ref _states[index], armed);

        // The clock read above kept the ticker awake for a second; this covers a thread descheduled for longer.
        _clock.EnsureRunning();
        return new Registration(index, armed);
    }

    private static int HandOutSlot()
    {
        int handedOut = Interlocked.Increment(ref s_ownedHandedOut);
        return handedOut <= OwnedSlots ? handedOut : NoOwnedSlot;
    }

    private bool Scan(long now)
    {
        bool anyArmed = false;
        for (int index = 0; index < SlotCount; index++)
        {
            long word = Volatile.Read(ref _states[index]);
            long kind = word & KindMask;
            if (kind == Claimed)
            {
                anyArmed = true;
                continue;
            }

            if (kind != Armed)
            {
                continue;
            }

            anyArmed = true;
            if (now < Volatile.Read(ref _due[index]))
            {
                continue;
            }

            // Only the winner of this exchange touches the source: a slot re-armed meanwhile has another version.
            long firing = (word & ~KindMask) | Firing;
            if (Interlocked.CompareExchange(ref _states[index], firing, word) != word)
            {
                continue;
            }

            try
            {
                // The token is cancelled at once; its callbacks (a driver's cancel request, say) run on the thread pool,
                // so a slow one cannot stall the clock this thread keeps.
                _ = _sources[index]!.CancelAsync();
            }
            catch (Exception)
            {
                // The source was disposed by its owner after losing the race: the cancellation is moot.
            }
            finally
            {
                _sources[index] = null;
                Volatile.Write(ref _states[index], word & ~KindMask);
            }
        }

        return anyArmed;
    }

    /// <summary>An armed slot: its index and the state word it was armed with.</summary>
    internal readonly struct Registration(int index, long armed)
    {
        public int Index { get; } = index;

        public long Armed { get; } = armed;

        public bool IsArmed => Armed != 0;
    }
}
