namespace Resilience.Npgsql.Tests.Faults;

/// <summary>One way of writing rows to PostgreSQL under test: the usual stack, ours, or any other contender.</summary>
/// <remarks>
/// A write either returns (acknowledged: the row must exist exactly once afterwards) or throws (failed: the row may or
/// may not exist, but never twice). Implementations own their pool and are disposed after the run.
/// </remarks>
internal interface IWriteStack : IAsyncDisposable
{
    /// <summary>Gets the name shown in the comparison table.</summary>
    string Name { get; }

    /// <summary>Inserts the row (<paramref name="writer"/>, <paramref name="sequence"/>) into <paramref name="table"/>, retrying as the stack does.</summary>
    /// <returns>A task that completes when the write was acknowledged.</returns>
    Task InsertAsync(string table, int writer, int sequence, CancellationToken cancellationToken);

    /// <summary>Returns whether <paramref name="failure"/> was raised without trying the database (e.g. an open circuit).</summary>
    /// <returns><see langword="true"/> for a fast rejection.</returns>
    bool IsRejectedWithoutTrying(Exception failure);
}
