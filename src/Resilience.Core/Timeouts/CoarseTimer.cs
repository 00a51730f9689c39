namespace Resilience.Timeouts;

/// <summary>
/// Cancels pooled token sources at coarse deadlines (system clock only) without touching the runtime's timer queue:
/// arming and disarming cost three interlocked operations instead of two locked timer-queue updates per call.
/// </summary>
/// <remarks>
/// <para>
/// A fixed table of slots, each a state word (a version and Free, Claimed, Armed or Firing), the source and its due time
/// in <see cref="Time.CoarseClock"/> milliseconds (arming and scanning read the same clock, so a lagging clock delays
/// a timeout, never advances it). One periodic timer scans the table every
/// <see cref="Period"/> and cancels the sources that are due; it stops itself after a while without armed slots and is
/// restarted by the next registration. Used only for limits of at least <see cref="MinimumLimit"/>, where firing up to one
/// period late is noise; shorter limits, a full table and other time providers use <c>CancelAfter</c>.
/// </para>
/// <para>
/// A disarm that loses the race to the scanner (the slot is already firing) tells the caller so: that source may be
/// cancelled at any moment and must never go back to the pool.
/// </para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "One process-wide instance; its timer lives as long as the process.")]
internal sealed class CoarseTimer
{
    /// <summary>How often due slots are looked for.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(15);

    /// <summary>The shortest limit armed here: a period late is at most 1.5 % of it.</summary>
    public static readonly TimeSpan MinimumLimit = TimeSpan.FromSeconds(1);

    public static readonly CoarseTimer Shared = new();

    private const long Free = 0;
    private const long Claimed = 1;
    private const long Armed = 2;
    private const long Firing = 3;
    private const long KindMask = 3;
    private const int SlotCount = 512;
    private const int Probes = 16;

    // Idle scans (about 1 s) before the scanner stops.
    private const int IdleScansBeforeStop = 64;

    private readonly long[] _states = new long[SlotCount];
    private readonly CancellationTokenSource?[] _sources = new CancellationTokenSource?[SlotCount];
    private readonly long[] _due = new long[SlotCount];
    private readonly Timer _scanner;
    private int _running;
    private int _idleScans;

    private CoarseTimer()
    {
        // The scanner does not keep the process alive, and captures no execution context.
        using (ExecutionContext.SuppressFlow())
        {
            _scanner = new Timer(static s => ((CoarseTimer)s!).Scan(), this, Timeout.Infinite, Timeout.Infinite);
        }
    }

    /// <summary>Arms <paramref name="source"/> to be cancelled after <paramref name="limit"/>.</summary>
    /// <returns>The registration to pass to <see cref="TryDisarm"/>, or <see langword="default"/> when the table is full.</returns>
    public Registration TryArm(CancellationTokenSource source, TimeSpan limit)
    {
        long due = Time.CoarseClock.Shared.Milliseconds + (long)limit.TotalMilliseconds;
        int start = (Thread.GetCurrentProcessorId() * Probes) & (SlotCount - 1);
        for (int i = 0; i < Probes; i++)
        {
            int index = (start + i) & (SlotCount - 1);
            long word = Volatile.Read(ref _states[index]);
            if ((word & KindMask) != Free)
            {
                continue;
            }

            long version = (word >> 2) + 1;
            if (Interlocked.CompareExchange(ref _states[index], (version << 2) | Claimed, word) != word)
            {
                continue;
            }

            _sources[index] = source;
            Volatile.Write(ref _due[index], due);
            long armed = (version << 2) | Armed;

            // A full fence between publishing the slot and reading whether the scanner runs (see Scan's stop).
            Interlocked.Exchange(ref _states[index], armed);
            if (Volatile.Read(ref _running) == 0)
            {
                Start();
            }

            return new Registration(index, armed);
        }

        return default;
    }

    /// <summary>Disarms a registration.</summary>
    /// <returns><see langword="false"/> when the scanner got there first: the source is (or is about to be) cancelled.</returns>
    public bool TryDisarm(in Registration registration) =>
        Interlocked.CompareExchange(ref _states[registration.Index], registration.Armed & ~KindMask, registration.Armed) == registration.Armed;

    private void Start()
    {
        if (Interlocked.Exchange(ref _running, 1) == 0)
        {
            Volatile.Write(ref _idleScans, 0);
            _scanner.Change(Period, Period);
        }
    }

    private void Scan()
    {
        long now = Time.CoarseClock.Shared.Milliseconds;
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
                _sources[index]!.Cancel();
            }
            catch (Exception)
            {
                // A callback registered on the token threw (or the source was disposed by its owner after losing the
                // race): the cancellation itself happened; a failing callback is the registrant's concern.
            }
            finally
            {
                Volatile.Write(ref _states[index], word & ~KindMask);
            }
        }

        if (anyArmed)
        {
            Volatile.Write(ref _idleScans, 0);
        }
        else if (Interlocked.Increment(ref _idleScans) >= IdleScansBeforeStop)
        {
            Stop();
        }
    }

    private void Stop()
    {
        _scanner.Change(Timeout.Infinite, Timeout.Infinite);
        Interlocked.Exchange(ref _running, 0);

        // A registration that read "running" just before the stop is armed now, and would never fire: look again.
        for (int index = 0; index < SlotCount; index++)
        {
            long kind = Volatile.Read(ref _states[index]) & KindMask;
            if (kind == Armed || kind == Claimed)
            {
                Start();
                return;
            }
        }
    }

    /// <summary>An armed slot: its index and the state word it was armed with.</summary>
    internal readonly struct Registration(int index, long armed)
    {
        public int Index { get; } = index;

        public long Armed { get; } = armed;

        public bool IsArmed => Armed != 0;
    }
}
