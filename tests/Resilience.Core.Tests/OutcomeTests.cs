namespace Resilience.Core.Tests;

public sealed class OutcomeTests
{
    [Fact]
    public void FromResult_HoldsValue_AndDoesNotThrow()
    {
        var outcome = Outcome.FromResult(42);

        Assert.False(outcome.HasException);
        Assert.Null(outcome.Exception);
        Assert.Equal(42, outcome.GetResultOrThrow());
        Assert.True(outcome.TryGetResult(out var value));
        Assert.Equal(42, value);
    }

    [Fact]
    public void FromException_RethrowsOriginalException_WithItsStackTrace()
    {
        var original = CaptureThrown();
        var outcome = Outcome.FromException<int>(original);

        Assert.True(outcome.HasException);
        Assert.False(outcome.TryGetResult(out _));
        var thrown = Assert.Throws<InvalidOperationException>(() => outcome.GetResultOrThrow());
        Assert.Same(original, thrown);
        Assert.Contains(nameof(CaptureThrown), thrown.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public void FromException_Null_Throws() =>
        Assert.Throws<ArgumentNullException>(() => Outcome.FromException<int>(null!));

    private static InvalidOperationException CaptureThrown()
    {
        try
        {
            throw new InvalidOperationException("boom");
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    }
}
