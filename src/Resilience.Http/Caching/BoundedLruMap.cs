using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Resilience.Http;

/// <summary>A concurrent map of at most <c>capacity</c> entries that evicts the least recently used one.</summary>
/// <remarks>
/// Reads take no lock and write nothing when the entry read is already the most recent one (the common case of a client
/// that talks to one host). Recency is a shared counter bumped only when the order changes. Inserting a new key beyond
/// the capacity scans for the oldest entry under a lock: O(capacity), paid only when a new key arrives at a full map.
/// </remarks>
internal sealed class BoundedLruMap<TKey, TValue>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries;
    private readonly int _capacity;
    private readonly Lock _evictionLock = new();
    private long _clock;
    private int _count;

    public BoundedLruMap(int capacity, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _entries = new ConcurrentDictionary<TKey, Entry>(comparer);
    }

    /// <summary>Raised (outside the map's lock, on the thread that added the entry) with the key and value of an entry evicted to make room.</summary>
    public Action<TKey, TValue>? Evicted { get; init; }

    /// <summary>Gets which values may be evicted; the least recently used of those goes first.</summary>
    /// <value>
    /// <see langword="null"/>: any. When no entry but the new one qualifies, the least recently used one is evicted anyway,
    /// so the map stays bounded.
    /// </value>
    public Func<TValue, bool>? Evictable { get; init; }

    public int Count => Volatile.Read(ref _count);

    public int Capacity => _capacity;

    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            Touch(entry);
            value = entry.Value;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Returns the value of <paramref name="key"/>, creating it with <paramref name="factory"/> when absent.</summary>
    /// <remarks>Under a race the factory may run more than once; only one value is kept, so it must have no side effects.</remarks>
    public TValue GetOrAdd<TState>(TKey key, Func<TKey, TState, TValue> factory, TState state)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (TryGetValue(key, out var existing))
        {
            return existing;
        }

        var created = new Entry(factory(key, state), Interlocked.Increment(ref _clock));
        var stored = _entries.GetOrAdd(key, created);
        if (ReferenceEquals(stored, created))
        {
            OnAdded(key);
        }

        return stored.Value;
    }

    /// <summary>Adds or replaces the value of <paramref name="key"/>, marking it the most recent.</summary>
    public void Set(TKey key, TValue value)
    {
        var entry = new Entry(value, Interlocked.Increment(ref _clock));
        while (true)
        {
            if (_entries.TryAdd(key, entry))
            {
                OnAdded(key);
                return;
            }

            if (_entries.TryGetValue(key, out var current) && _entries.TryUpdate(key, entry, current))
            {
                return;
            }
        }
    }

    /// <summary>Returns the entries, in no particular order, without touching their recency.</summary>
    public List<KeyValuePair<TKey, TValue>> GetEntries()
    {
        var entries = new List<KeyValuePair<TKey, TValue>>(Count);
        foreach (var pair in _entries)
        {
            entries.Add(new(pair.Key, pair.Value.Value));
        }

        return entries;
    }

    public bool Remove(TKey key)
    {
        if (_entries.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    private void Touch(Entry entry)
    {
        var clock = Volatile.Read(ref _clock);
        if (Volatile.Read(ref entry.LastUsed) != clock)
        {
            Volatile.Write(ref entry.LastUsed, Interlocked.Increment(ref _clock));
        }
    }

    private void OnAdded(TKey added)
    {
        if (Interlocked.Increment(ref _count) <= _capacity)
        {
            return;
        }

        List<KeyValuePair<TKey, TValue>>? evicted = null;
        lock (_evictionLock)
        {
            while (Volatile.Read(ref _count) > _capacity)
            {
                if (!TryFindVictim(added, out var victim) || !_entries.TryRemove(victim, out var removed))
                {
                    break;
                }

                Interlocked.Decrement(ref _count);
                (evicted ??= []).Add(new(victim, removed.Value));
            }
        }

        if (evicted is not null && Evicted is { } callback)
        {
            foreach (var pair in evicted)
            {
                callback(pair.Key, pair.Value);
            }
        }
    }

    /// <summary>Finds the least recently used evictable entry, else the least recently used one; never the entry just added.</summary>
    private bool TryFindVictim(TKey added, out TKey victim)
    {
        var comparer = _entries.Comparer;
        var evictable = Evictable;
        var oldest = long.MaxValue;
        var oldestEvictable = long.MaxValue;
        TKey? any = default;
        TKey? preferred = default;
        foreach (var pair in _entries)
        {
            if (comparer.Equals(pair.Key, added))
            {
                continue;
            }

            var used = Volatile.Read(ref pair.Value.LastUsed);
            if (used < oldest)
            {
                oldest = used;
                any = pair.Key;
            }

            if (used < oldestEvictable && (evictable is null || evictable(pair.Value.Value)))
            {
                oldestEvictable = used;
                preferred = pair.Key;
            }
        }

        if (oldestEvictable != long.MaxValue)
        {
            victim = preferred!;
            return true;
        }

        victim = any!;
        return oldest != long.MaxValue;
    }

    private sealed class Entry(TValue value, long lastUsed)
    {
        public readonly TValue Value = value;
        public long LastUsed = lastUsed;
    }
}
