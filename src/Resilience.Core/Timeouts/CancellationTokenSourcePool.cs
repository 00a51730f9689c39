namespace Resilience.Timeouts;

/// <summary>
/// A small lock-free pool of <see cref="CancellationTokenSource"/> bound to one <see cref="TimeProvider"/>, so a
/// timeout on the success path allocates nothing; on the system clock each thread also keeps one source of its own.
/// </summary>
/// <remarks>
/// Sources are created with <c>new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider)</c> so that
/// <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> runs on the provider's timer (a fake one in tests;
/// the runtime's own timer queue, without allocation, for <see cref="TimeProvider.System"/>). A source comes back only
/// when <see cref="CancellationTokenSource.TryReset"/> succeeds: a cancelled source is disposed, never reused.
/// <see cref="CancellationTokenSource.TryReset"/> can only reset the runtime's own timer, so sources bound to any
/// other provider (a <c>FakeTimeProvider</c> in tests) are correct but not pooled: each is created and disposed.
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

        return new CancellationTokenSource(Timeout.InfiniteTimeSpan, _timeProvider);
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
