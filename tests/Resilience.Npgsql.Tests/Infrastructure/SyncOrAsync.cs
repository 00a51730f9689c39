using System.Data;
using System.Reflection;
using Npgsql;
using Xunit.Sdk;

namespace Resilience.Npgsql.Tests.Infrastructure;

/// <summary>
/// Runs a theory once through the synchronous API and once through the asynchronous one (its <c>bool async</c> argument), as
/// npgsql's own <c>SyncOrAsyncTestBase</c> does: every database fault must be handled the same way on both.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SyncAndAsyncAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[false], [true]];
}

/// <summary>The calls of a test written once in the <c>bool async</c> idiom: <c>Execute</c>/<c>InTransaction</c> or their <c>…Async</c> twins.</summary>
internal static class SyncOrAsync
{
    /// <summary>An operation written once: with <c>async</c> <see langword="false"/> it must use Npgsql's synchronous methods (and so complete synchronously).</summary>
    public delegate ValueTask<TResult> Operation<TState, TResult>(NpgsqlCommand command, TState state, bool async, CancellationToken cancellationToken);

    public static async ValueTask<int> ExecuteNonQuery(this NpgsqlCommand command, bool async, CancellationToken cancellationToken) =>
        async ? await command.ExecuteNonQueryAsync(cancellationToken) : command.ExecuteNonQuery();

    public static async ValueTask<object?> ExecuteScalar(this NpgsqlCommand command, bool async, CancellationToken cancellationToken) =>
        async ? await command.ExecuteScalarAsync(cancellationToken) : command.ExecuteScalar();

    /// <summary>Runs <see cref="ResilientDataSource.Execute{TState, TResult}"/> or <see cref="ResilientDataSource.ExecuteAsync{TState, TResult}(Func{NpgsqlCommand, TState, CancellationToken, ValueTask{TResult}}, TState, DbCallOptions, CancellationToken)"/>.</summary>
    public static ValueTask<TResult> Execute<TState, TResult>(
        this ResilientDataSource db, bool async, Operation<TState, TResult> operation, TState state, DbCallOptions options = default, CancellationToken cancellationToken = default) =>
        async
            ? db.ExecuteAsync(static (command, s, ct) => s.Operation(command, s.State, true, ct), (Operation: operation, State: state), options, cancellationToken)
            : new ValueTask<TResult>(db.Execute(static (command, s) => Completed(s.Operation(command, s.State, false, CancellationToken.None)), (Operation: operation, State: state), options, cancellationToken));

    /// <summary>Runs <see cref="ResilientDataSource.InTransaction{TState, TResult}"/> or <see cref="ResilientDataSource.InTransactionAsync{TState, TResult}"/>.</summary>
    public static ValueTask<TResult> InTransaction<TState, TResult>(
        this ResilientDataSource db, bool async, Operation<TState, TResult> operation, TState state, IsolationLevel isolationLevel, DbCallOptions options = default, CancellationToken cancellationToken = default) =>
        async
            ? db.InTransactionAsync(static (command, s, ct) => s.Operation(command, s.State, true, ct), (Operation: operation, State: state), isolationLevel, options, cancellationToken)
            : new ValueTask<TResult>(db.InTransaction(static (command, s) => Completed(s.Operation(command, s.State, false, CancellationToken.None)), (Operation: operation, State: state), isolationLevel, options, cancellationToken));

    private static TResult Completed<TResult>(ValueTask<TResult> pending) =>
        pending.IsCompleted ? pending.GetAwaiter().GetResult() : throw new InvalidOperationException("A synchronous operation must not yield.");
}
