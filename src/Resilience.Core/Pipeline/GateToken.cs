namespace Resilience;

/// <summary>What a <see cref="GateLayer"/> remembers of one admitted call between entering and leaving; its fields mean what the gate says.</summary>
/// <remarks>
/// Plain fields of a fixed shape rather than a generic: the run that passes it stays one piece of code for every gate. No
/// object reference: a struct without one needs no zeroing in the frame and travels in registers (measured: it mattered).
/// </remarks>
internal readonly struct GateToken
{
    public GateToken(long value, int generation, byte kind, ushort slot)
    {
        Value = value;
        Generation = generation;
        Kind = kind;
        Slot = slot;
    }

    public long Value { get; }

    public int Generation { get; }

    public byte Kind { get; }

    public ushort Slot { get; }
}
