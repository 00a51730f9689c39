using Resilience.Failures;

namespace Resilience.Core.Tests.Failures;

public sealed class FailureKindsTests
{
    // Every kind, with the status it must map to; a kind added to the enum without a row here fails the completeness test.
    private static readonly Dictionary<FailureKind, int> Expected = new()
    {
        [FailureKind.None] = 500,
        [FailureKind.Transient] = 503,
        [FailureKind.Timeout] = 504,
        [FailureKind.Unavailable] = 503,
        [FailureKind.Conflict] = 409,
        [FailureKind.NotFound] = 404,
        [FailureKind.InvalidInput] = 422,
        [FailureKind.Permanent] = 500,
        [FailureKind.Configuration] = 500,
        [FailureKind.UnknownOutcome] = 503,
    };

    [Fact]
    public void ToHttpStatus_EveryDefinedKind_HasItsStatus()
    {
        foreach (var kind in Enum.GetValues<FailureKind>())
        {
            Assert.True(Expected.TryGetValue(kind, out var status), $"{kind} has no expected status in this test.");
            Assert.Equal(status, FailureKinds.ToHttpStatus(kind));
        }
    }

    [Fact]
    public void ToHttpStatus_UndefinedValue_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => FailureKinds.ToHttpStatus((FailureKind)999));
}
