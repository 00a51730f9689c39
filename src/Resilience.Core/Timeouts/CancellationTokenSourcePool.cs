namespace Resilience.Timeouts;

/// <summary>
/// A small lock-free pool of <see cref="CancellationTokenSource"/> bound to one <see cref="TimeProvider"/>, so a
/// timeout on the success path allocates nothing; on the system clock each thread also keeps one source of its own.
/// </summary>
/// <remarks>
/// On <see cref="TimeProvider.System"/> sources are plain ones: <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>
/// creates the runtime's timer on first use. Sources bound to any other provider (a <c>FakeTimeProvider</c> in tests)
/// are created with <c>new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider)</c>, so they cancel on its
/// timer; <see cref="CancellationTokenSource.TryReset"/> can only reset the runtime's own timer, so those are correct but
/// not pooled: each is created and disposed. A source comes back only when
/// <see cref="CancellationTokenSource.TryReset"/> succeeds: a cancelled source is disposed, never reused.
/// </remarks>
internal sealed class CancellationTokenSourcePool
{
    // One reset source per thread, shared by every pool on the system clock (their sources are interchangeable): a call
    // that completes on the thread it started on rents and returns without an interlocked operation.
    [ThreadStatic]
    private static CancellationTokenSource? t_cached;

    private readonly CancellationTokenSource?[] _slots;
    private readonly TimeProvider _timeProvider;
    private readonly bool _poolable;

    public CancellationTokenSourcePool(TimeProvider timeProvider, int capacity = 0)
    {
        _timeProvider = timeProvider;
        _poolable = timeProvider == TimeProvider.System;
        _slots = new CancellationTokenSource?[capacity > 0 ? capacity : Math.Max(4, Environment.ProcessorCount * 2)];
    }

    /// <summary>Gets how many sources a rent on this thread could reuse now: the pool's, and the thread's own (for tests).</summary>
    internal int Count
    {
        get
        {
            int count = _poolable && t_cached is not null ? 1 : 0;
            for (int i = 0; i < _slots.Length; i++)
            {
                if (Volatile.Read(ref _slots[i]) is not null)
                {
                    count++;
                }
            }

            return count;
        }
    }

    public CancellationTokenSource Rent()
    {
        if (_poolable && t_cached is { } cached)
        {
            t_cached = null;
            return cached;
        }

        var slots = _slots;
        for (int i = 0; i < slots.Length; i++)
        {
            if (Volatile.Read(ref slots[i]) is not null)
            {
                var cts = Interlocked.Exchange(ref slots[i], null);
                if (cts is not null)
                {
                    return cts;
                }
            }
        }

        // On the system clock a source starts without a timer: the runtime creates one only if CancelAfter is called (the
        // coarse timer usually serves instead), and a source holding one takes the timer queue's lock on every TryReset.
        return _poolable ? new CancellationTokenSource() : new CancellationTokenSource(Timeout.InfiniteTimeSpan, _timeProvider);
    }

    /// <summary>Returns <paramref name="cts"/> if it can be reset (not cancelled) and there is room; otherwise disposes it.</summary>
    /// <returns><see langword="true"/> when the source went back into the pool.</returns>
    public bool Return(CancellationTokenSource cts)
    {
        if (_poolable && cts.TryReset())
        {
            if (t_cached is null)
            {
                t_cached = cts;
                return true;
            }

            var slots = _slots;
            for (int i = 0; i < slots.Length; i++)
            {
                if (Volatile.Read(ref slots[i]) is null && Interlocked.CompareExchange(ref slots[i], cts, null) is null)
                {
                    return true;
                }
            }
        }

        cts.Dispose();
        return false;
    }
}
