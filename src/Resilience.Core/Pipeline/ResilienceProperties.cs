using System.Diagnostics.CodeAnalysis;

namespace Resilience;

/// <summary>The typed values of one call, keyed by <see cref="ResiliencePropertyKey{TValue}"/>.</summary>
/// <remarks>Not thread-safe: a call's hedged attempts share it, so they should only read it.</remarks>
public sealed class ResilienceProperties
{
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);

    internal ResilienceProperties()
    {
    }

    /// <summary>Gets how many values are set.</summary>
    public int Count => _values.Count;

    /// <summary>Gets the value of <paramref name="key"/>.</summary>
    /// <typeparam name="TValue">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value, when set.</param>
    /// <returns><see langword="true"/> when the key has a value of type <typeparamref name="TValue"/>.</returns>
    public bool TryGetValue<TValue>(ResiliencePropertyKey<TValue> key, [MaybeNullWhen(false)] out TValue value)
    {
        if (_values.TryGetValue(key.Key, out var stored) && stored is TValue typed)
        {
            value = typed;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Gets the value of <paramref name="key"/>, or <paramref name="defaultValue"/> when it has none.</summary>
    /// <typeparam name="TValue">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">What to return when the key has no value.</param>
    /// <returns>The value.</returns>
    public TValue GetValue<TValue>(ResiliencePropertyKey<TValue> key, TValue defaultValue) =>
        TryGetValue(key, out var value) ? value : defaultValue;

    /// <summary>Sets the value of <paramref name="key"/>.</summary>
    /// <typeparam name="TValue">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    public void Set<TValue>(ResiliencePropertyKey<TValue> key, TValue value) => _values[key.Key] = value;

    internal void Clear() => _values.Clear();
}

/// <summary>The name and type of one value in <see cref="ResilienceProperties"/>.</summary>
/// <typeparam name="TValue">The value's type.</typeparam>
/// <param name="key">The name; keys of the same name share a value.</param>
public readonly struct ResiliencePropertyKey<TValue>(string key)
{
    /// <summary>Gets the name.</summary>
    public string Key { get; } = key ?? throw new ArgumentNullException(nameof(key));

    /// <inheritdoc />
    public override string ToString() => Key;
}
