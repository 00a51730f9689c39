namespace Resilience;

/// <summary>What a <see cref="GateLayer"/> remembers of one admitted call between entering and leaving; its fields mean what the gate says.</summary>
/// <remarks>Plain fields of a fixed shape rather than a generic: the run that passes it stays one piece of code for every gate.</remarks>
internal readonly struct GateToken
{
    public GateToken(object? owner, long value, int generation, byte kind, ushort slot)
    {
        Owner = owner;
        Value = value;
        Generation = generation;
        Kind = kind;
        Slot = slot;
    }

    public object? Owner { get; }

    public long Value { get; }

    public int Generation { get; }

    public byte Kind { get; }

    public ushort Slot { get; }
}
