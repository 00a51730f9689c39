using System.Runtime.CompilerServices;

namespace Resilience.Time;

/// <summary>
/// <see cref="Environment.TickCount64"/> read from a field that a ticker thread refreshes every millisecond while the
/// clock is in use: a hot path pays one memory read instead of a system call for each timestamp.
/// </summary>
/// <remarks>
/// <para>
/// Every layer reads the clock at least once per call (breaker buckets and slow calls, deadlines, timers, fallback
/// ages); at about 4 ns a read on a virtual machine, the system call was the largest single cost of a pipeline call.
/// The field is at most one tick behind (about 1 ms, or the kernel's coarse-clock resolution when that is larger), and
/// later when the ticker thread is starved of CPU — which only makes breaks, deadlines and ages look shorter for that
/// long, never longer.
/// </para>
/// <para>
/// The ticker parks itself after <see cref="IdleTicksBeforePark"/> ticks without a read, so an idle process does not
/// wake every millisecond; the first read after that restarts it and reads the system clock directly meanwhile.
/// </para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "One process-wide instance; its ticker lives as long as the process.")]
internal sealed class CoarseClock
{
    /// <summary>Ticks (about a second) without a read after which the ticker parks.</summary>
    public const int IdleTicksBeforePark = 1000;

    private const int Parked = 0;
    private const int Starting = 1;
    private const int Running = 2;

    private readonly Func<long> _source;
    private readonly bool _startsTicker;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private long _milliseconds;
    private int _state;
    private int _read;
    private int _idleTicks;
    private Thread? _thread;
    private ITickListener? _listener;

    /// <param name="source">The clock to cache.</param>
    /// <param name="startsTicker">Whether a read of the parked clock starts the ticker thread; tests call <see cref="Tick"/> themselves.</param>
    internal CoarseClock(Func<long> source, bool startsTicker = true)
    {
        _source = source;
        _startsTicker = startsTicker;
    }

    /// <summary>Gets the process-wide clock over <see cref="Environment.TickCount64"/>.</summary>
    public static CoarseClock Shared { get; } = new(static () => Environment.TickCount64);

    /// <summary>Gets a value indicating whether the ticker is refreshing the field (for tests).</summary>
    internal bool IsRunning => Volatile.Read(ref _state) == Running;

    /// <summary>Gets the current time in milliseconds since an arbitrary origin (that of <see cref="Environment.TickCount64"/>).</summary>
    public long Milliseconds
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (Volatile.Read(ref _state) == Running)
            {
                // Tell the ticker the clock is in use; written only once per tick, so readers on many cores rarely
                // contend for the line.
                if (_read == 0)
                {
                    _read = 1;
                }

                return Volatile.Read(ref _milliseconds);
            }

            return Wake();
        }
    }

    /// <summary>Restarts a parked ticker, after work for its listener was published.</summary>
    internal void EnsureRunning()
    {
        if (Volatile.Read(ref _state) != Running)
        {
            Wake();
        }
    }

    /// <summary>
    /// Makes <paramref name="listener"/> run on every tick, on the ticker thread, which stays awake while it reports
    /// work pending (the coarse timer's armed slots).
    /// </summary>
    internal void Listen(ITickListener listener) => Volatile.Write(ref _listener, listener);

    /// <summary>One tick of the ticker: refresh the field, and park once nobody has read it for a while.</summary>
    /// <returns><see langword="false"/> when the ticker should park.</returns>
    internal bool Tick()
    {
        long now = _source();
        Volatile.Write(ref _milliseconds, now);
        bool busy = Volatile.Read(ref _listener)?.OnTick(now) ?? false;
        if (Volatile.Read(ref _read) != 0 || busy)
        {
            Volatile.Write(ref _read, 0);
            _idleTicks = 0;
            return true;
        }

        if (++_idleTicks < IdleTicksBeforePark)
        {
            return true;
        }

        _idleTicks = 0;

        // Readers that still see Running get a value at most a tick old; the next one restarts the ticker. Work
        // published just before the park (a timer armed by a caller that read the clock a second ago and was then
        // descheduled) is looked for once more after it, behind the interlocked write's fence.
        Interlocked.Exchange(ref _state, Parked);
        if (Volatile.Read(ref _listener)?.HasWork() == true && Interlocked.CompareExchange(ref _state, Running, Parked) == Parked)
        {
            return true;
        }

        return false;
    }

    /// <summary>Reads the source directly and restarts the ticker (one reader does; the others just read the source).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long Wake()
    {
        long now = _source();
        if (Interlocked.CompareExchange(ref _state, Starting, Parked) != Parked)
        {
            return now;
        }

        // The field is published fresh before readers trust it again: while parked it may be hours old.
        Volatile.Write(ref _milliseconds, now);
        Volatile.Write(ref _read, 1);
        Volatile.Write(ref _state, Running);
        if (!_startsTicker)
        {
            return now;
        }

        if (_thread is null)
        {
            _thread = new Thread(static s => ((CoarseClock)s!).Run())
            {
                IsBackground = true,
                Name = "Resilience coarse clock",
            };
            _thread.UnsafeStart(this);
        }
        else
        {
            _wake.Release();
        }

        return now;
    }

    private void Run()
    {
        while (true)
        {
            // The one blocking wait in the library, on its own thread: a timer callback on the thread pool would stop
            // the clock exactly when the pool is starved, during the outages this library is for.
#pragma warning disable RS0030
            Thread.Sleep(1);
#pragma warning restore RS0030
            if (!Tick())
            {
                _wake.Wait();
            }
        }
    }
}

/// <summary>Work done on the clock's ticker thread every tick.</summary>
internal interface ITickListener
{
    /// <summary>Runs one tick.</summary>
    /// <param name="nowMilliseconds">The clock's new value.</param>
    /// <returns><see langword="true"/> while work is pending, which keeps the ticker from parking.</returns>
    bool OnTick(long nowMilliseconds);

    /// <summary>Looks for pending work without doing any (the last look before the ticker parks).</summary>
    /// <returns><see langword="true"/> when work is pending.</returns>
    bool HasWork();
}
