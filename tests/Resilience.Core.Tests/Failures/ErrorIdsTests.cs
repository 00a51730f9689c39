using Resilience.Failures;

namespace Resilience.Core.Tests.Failures;

public sealed class ErrorIdsTests
{
    [Theory]
    [InlineData(FailureKind.Timeout, false, "ERR_TIMEOUT")]
    [InlineData(FailureKind.Unavailable, true, "ERR_DB_UNAVAILABLE")]
    [InlineData(FailureKind.Transient, true, "ERR_DB_UNAVAILABLE")]
    [InlineData(FailureKind.Unavailable, false, "ERR_UPSTREAM_UNAVAILABLE")]
    [InlineData(FailureKind.Conflict, true, "ERR_ALREADY_EXISTS")]
    [InlineData(FailureKind.InvalidInput, false, "ERR_VALIDATION")]
    [InlineData(FailureKind.NotFound, false, "ERR_NOT_FOUND")]
    [InlineData(FailureKind.UnknownOutcome, true, "ERR_UNKNOWN_OUTCOME")]
    [InlineData(FailureKind.Permanent, true, "ERR_INTERNAL")]
    public void For_EachKind_ReturnsStableId(FailureKind kind, bool database, string expected) =>
        Assert.Equal(expected, ErrorIds.For(kind, database));
}
