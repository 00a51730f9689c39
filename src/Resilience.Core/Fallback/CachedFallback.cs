using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.CircuitBreaking;
using Resilience.Telemetry;
using Resilience.Time;

namespace Resilience.Fallback;

/// <summary>Keeps the last good value per key and serves it, marked stale with its age, when a call fails or the circuit is open.</summary>
/// <typeparam name="TKey">The type of the key.</typeparam>
/// <typeparam name="TValue">The type of the value.</typeparam>
/// <remarks>
/// <para>Thread-safe and bounded by <see cref="CachedFallbackOptions.MaxEntries"/>: when full, a new key evicts a key
/// not read or written since the clock hand last passed it (CLOCK, an approximation of least recently used).
/// Reads and updates of existing keys lock only their own entry and allocate nothing; only adding a key takes the
/// cache-wide insert lock.</para>
/// <para>A value older than <see cref="CachedFallbackOptions.MaxStaleness"/> is never served: then the static fallback
/// (when given) is served, otherwise the original failure surfaces.</para>
/// </remarks>
public sealed class CachedFallback<TKey, TValue>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries;
    private readonly Entry?[] _slots;
    private readonly Stack<int> _freeSlots = new();
    private readonly Lock _insertLock = new();
    private readonly bool _ownClock;
    private TimeProvider _time;
    private MonotonicClock _clock;
    private readonly ILogger _logger;
    private readonly FallbackTelemetry _telemetry;
    private readonly long _maxStalenessTicks;
    private readonly Func<TKey, TValue>? _staticFallback;
    private Entry? _lastWritten;
    private int _usedSlots;
    private int _hand;
    private long _staleServed;
    private long _staticServed;

    /// <summary>Initializes a new instance of the <see cref="CachedFallback{TKey, TValue}"/> class.</summary>
    /// <param name="name">The name used in logs and metrics.</param>
    /// <param name="options">The options; validated here and copied.</param>
    /// <param name="staticFallback">Produces a value when nothing usable is cached; <see langword="null"/> for none.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger; <see cref="NullLogger.Instance"/> when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter the fallback's counter report on (DI's <see cref="IMeterFactory"/>); the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public CachedFallback(string name, CachedFallbackOptions options, Func<TKey, TValue>? staticFallback = null, TimeProvider? timeProvider = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        CachedFallbackOptionsValidator.ThrowIfInvalid(name, options);
        Name = name;
        _ownClock = timeProvider is not null;
        _time = timeProvider ?? TimeProvider.System;
        _clock = new MonotonicClock(_time);
        Options = new CachedFallbackOptions { MaxEntries = options.MaxEntries, MaxStaleness = options.MaxStaleness, ShouldHandle = options.ShouldHandle, OnFallback = options.OnFallback };
        _logger = logger ?? NullLogger.Instance;
        _telemetry = ResilienceMeter.Instruments<FallbackTelemetry>(meterFactory);
        _staticFallback = staticFallback;
        _maxStalenessTicks = options.MaxStaleness.Ticks;
        _slots = new Entry?[options.MaxEntries];
        _entries = new ConcurrentDictionary<TKey, Entry>(Environment.ProcessorCount, Math.Min(options.MaxEntries, 1024));
    }

    /// <summary>Gets the name.</summary>
    public string Name { get; }

    /// <summary>Gets a copy of the options the cache was created with (a pipeline's description shows them).</summary>
    internal CachedFallbackOptions Options { get; }

    /// <summary>Runs on the pipeline's clock when the cache was created without one of its own, so a test's fake clock ages its values.</summary>
    internal void UseClockOf(TimeProvider timeProvider)
    {
        if (!_ownClock && !ReferenceEquals(_time, timeProvider))
        {
            _time = timeProvider;
            _clock = new MonotonicClock(timeProvider);
        }
    }

    /// <summary>Gets the cache's options as a pipeline's description lists them.</summary>
    internal FormattableString DescribeOptions() =>
        $"Name={Name}, MaxEntries={_slots.Length}, MaxStaleness={TimeSpan.FromTicks(_maxStalenessTicks)}, StaticFallback={_staticFallback is not null}";

    /// <summary>Gets the number of cached keys.</summary>
    public int Count => Volatile.Read(ref _usedSlots) - _freeSlotsCount;

    /// <summary>Gets how many cached (stale) values were served so far.</summary>
    public long StaleServed => Interlocked.Read(ref _staleServed);

    /// <summary>Gets how many static fallback values were served so far.</summary>
    public long StaticServed => Interlocked.Read(ref _staticServed);

    private int _freeSlotsCount;

    /// <summary>Records <paramref name="value"/> as the last good value of <paramref name="key"/>, stamped with the current time.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <remarks>Updating a cached key allocates nothing; adding a key allocates its entry and may evict another key.</remarks>
    public void Store(TKey key, TValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = _clock.Now;

        // A pipeline stores every success under one key (its default, or a hot one): the entry written last is tried
        // before the dictionary, whose look-up costs more than the write.
        if (Volatile.Read(ref _lastWritten) is { } last && EqualityComparer<TKey>.Default.Equals(last.Key, key) && last.TryWrite(value, now))
        {
            return;
        }

        if (_entries.TryGetValue(key, out var entry) && entry.TryWrite(value, now))
        {
            Volatile.Write(ref _lastWritten, entry);
            return;
        }

        Insert(key, value, now);
    }

    /// <summary>Gets the value to serve for <paramref name="key"/> in place of a failed call, and counts it as served.</summary>
    /// <param name="key">The key.</param>
    /// <param name="fallback">The cached value (stale, with its age) when one is younger than <see cref="CachedFallbackOptions.MaxStaleness"/>; otherwise the static fallback when configured.</param>
    /// <returns><see langword="true"/> when a fallback is available.</returns>
    public bool TryGetFallback(TKey key, out FallbackValue<TValue> fallback)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (TryGetCached(key, out var value, out var storedTimestamp))
        {
            var ageTicks = _clock.Now - storedTimestamp;
            if (ageTicks <= _maxStalenessTicks)
            {
                var age = ToTimeSpan(ageTicks);
                fallback = new FallbackValue<TValue>(value, FallbackSource.Cache, age, _time.GetUtcNow() - age);
                Interlocked.Increment(ref _staleServed);
                _telemetry.RecordServed(Name, CachedFallbackConstants.StaleKind);
                FallbackLog.StaleServed(_logger, Name, age);
                return true;
            }
        }

        if (_staticFallback is not null)
        {
            fallback = new FallbackValue<TValue>(_staticFallback(key), FallbackSource.Static, TimeSpan.Zero, _time.GetUtcNow());
            Interlocked.Increment(ref _staticServed);
            _telemetry.RecordServed(Name, CachedFallbackConstants.StaticKind);
            FallbackLog.StaticServed(_logger, Name);
            return true;
        }

        fallback = default;
        return false;
    }

    /// <summary>Removes the cached value of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when a value was removed.</returns>
    public bool Remove(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_insertLock)
        {
            if (!_entries.TryGetValue(key, out var entry))
            {
                return false;
            }

            Evict(entry);
            _freeSlots.Push(entry.Slot);
            _freeSlotsCount++;
            return true;
        }
    }

    private bool TryGetCached(TKey key, out TValue value, out long storedTimestamp)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            return entry.TryRead(out value, out storedTimestamp);
        }

        value = default!;
        storedTimestamp = 0;
        return false;
    }

    private void Insert(TKey key, TValue value, long now)
    {
        lock (_insertLock)
        {
            // Another writer may have added the key, or it may have been evicted, since the lock-free look-up.
            if (_entries.TryGetValue(key, out var existing) && existing.TryWrite(value, now))
            {
                return;
            }

            int slot;
            if (_freeSlots.Count > 0)
            {
                slot = _freeSlots.Pop();
                _freeSlotsCount--;
            }
            else if (_usedSlots < _slots.Length)
            {
                slot = _usedSlots;
                Volatile.Write(ref _usedSlots, _usedSlots + 1);
            }
            else
            {
                slot = EvictOne();
            }

            var entry = new Entry(key, value, now, slot);
            _slots[slot] = entry;
            _entries[key] = entry;
        }
    }

    private int EvictOne()
    {
        // CLOCK: skip (and clear) entries used since the hand last passed; evict the first one that was not.
        while (true)
        {
            var slot = _hand;
            _hand = (_hand + 1) % _slots.Length;
            var entry = _slots[slot];
            if (entry is null)
            {
                return slot;
            }

            if (Volatile.Read(ref entry.Referenced) != 0)
            {
                Volatile.Write(ref entry.Referenced, 0);
                continue;
            }

            Evict(entry);
            return slot;
        }
    }

    private void Evict(Entry entry)
    {
        entry.MarkEvicted();
        _entries.TryRemove(new KeyValuePair<TKey, Entry>(entry.Key, entry));
        _slots[entry.Slot] = null;
    }

    private static TimeSpan ToTimeSpan(long ticks) =>
        TimeSpan.FromTicks(ticks);

    private sealed class Entry
    {
        // A reference or a primitive no wider than a pointer is written and read whole, so such values need no lock: a
        // reader may pair a value with the timestamp of the write just before or after it, an age off by that write.
        private static readonly bool WholeWrites =
            !typeof(TValue).IsValueType || ((typeof(TValue).IsPrimitive || typeof(TValue).IsEnum) && Unsafe.SizeOf<TValue>() <= IntPtr.Size);

        private readonly Lock _gate = new();
        private TValue _value;
        private long _storedTimestamp;
        private bool _evicted;
        public int Referenced;

        public Entry(TKey key, TValue value, long storedTimestamp, int slot)
        {
            Key = key;
            Slot = slot;
            _value = value;
            _storedTimestamp = storedTimestamp;
        }

        public TKey Key { get; }

        public int Slot { get; }

        public bool TryWrite(TValue value, long timestamp)
        {
            if (WholeWrites)
            {
                _value = value;
                Volatile.Write(ref _storedTimestamp, timestamp);

                // Evicted meanwhile: the write raced a removal and lost; the caller inserts the value anew.
                if (Volatile.Read(ref _evicted))
                {
                    return false;
                }

                Touch();
                return true;
            }

            lock (_gate)
            {
                if (_evicted)
                {
                    return false;
                }

                _value = value;
                _storedTimestamp = timestamp;
            }

            Touch();
            return true;
        }

        public bool TryRead(out TValue value, out long storedTimestamp)
        {
            if (WholeWrites)
            {
                storedTimestamp = Volatile.Read(ref _storedTimestamp);
                value = _value;
                Touch();
                return true;
            }

            lock (_gate)
            {
                value = _value;
                storedTimestamp = _storedTimestamp;
            }

            Touch();
            return true;
        }

        public void MarkEvicted()
        {
            lock (_gate)
            {
                Volatile.Write(ref _evicted, true);
            }
        }

        private void Touch()
        {
            if (Referenced == 0)
            {
                Volatile.Write(ref Referenced, 1);
            }
        }
    }
}
