namespace ContentService.Status;

/// <summary>A fixed-size, thread-safe history: adding beyond the capacity drops the oldest item.</summary>
internal sealed class BoundedRing<T>
{
    private readonly Lock _sync = new();
    private readonly T[] _items;
    private int _next;
    private int _count;

    public BoundedRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _items = new T[capacity];
    }

    public int Capacity => _items.Length;

    public void Add(T item)
    {
        lock (_sync)
        {
            _items[_next] = item;
            _next = (_next + 1) % _items.Length;
            _count = Math.Min(_count + 1, _items.Length);
        }
    }

    /// <summary>The items, oldest first.</summary>
    public T[] ToArray()
    {
        lock (_sync)
        {
            var copy = new T[_count];
            var start = (_next - _count + _items.Length) % _items.Length;
            for (var i = 0; i < _count; i++)
            {
                copy[i] = _items[(start + i) % _items.Length];
            }

            return copy;
        }
    }
}
