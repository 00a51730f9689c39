namespace Resilience;

/// <summary>The result of an operation that returns nothing, so it can travel as an <see cref="Outcome{TResult}"/>.</summary>
/// <remarks>Returned by the <c>ExecuteOutcomeAsync</c> overloads whose operation returns a <see cref="ValueTask"/>.</remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1815:Override equals and operator equals on value types", Justification = "It has no value to compare.")]
public readonly struct VoidResult
{
    /// <inheritdoc/>
    public override string ToString() => "void";
}
