using Npgsql;

namespace Resilience.Npgsql;

/// <summary>
/// One statement the adapter runs itself (the <c>ExecuteNonQueryAsync</c>/<c>ExecuteScalarAsync</c> conveniences), so a call
/// not marked idempotent can learn its transaction id in the statement's own round trip: <c>BEGIN</c>, the statement and
/// <c>SELECT pg_current_xact_id()</c> go out as one batch, and <c>COMMIT</c> is the only round trip beyond a bare statement.
/// </summary>
/// <typeparam name="TResult">What the call returns.</typeparam>
/// <param name="sql">The statement, with positional parameters.</param>
/// <param name="parameters">The values of <c>$1</c>, <c>$2</c>, … in order.</param>
/// <param name="project">Makes the result from the rows affected and the first value of the first row (<see langword="null"/> when none).</param>
internal sealed class FoldedStatement<TResult>(string sql, IReadOnlyList<object?> parameters, Func<int, object?, TResult> project)
{
    public string Sql { get; } = sql;

    public IReadOnlyList<object?> Parameters { get; } = parameters;

    public TResult Project(int rowsAffected, object? firstValue) => project(rowsAffected, firstValue);

    /// <summary>Sets <paramref name="command"/>'s text and positional parameters.</summary>
    /// <returns>The command.</returns>
    public NpgsqlCommand Prepare(NpgsqlCommand command)
    {
        command.CommandText = Sql;
        command.Parameters.Clear(); // a retried attempt gets a fresh command, but be explicit
        AddParameters(command.Parameters);
        return command;
    }

    /// <summary>Creates the statement as the first command of a batch.</summary>
    /// <returns>The batch command.</returns>
    public NpgsqlBatchCommand CreateBatchCommand()
    {
        var command = new NpgsqlBatchCommand(Sql);
        AddParameters(command.Parameters);
        return command;
    }

    private void AddParameters(NpgsqlParameterCollection target)
    {
        for (var i = 0; i < Parameters.Count; i++)
        {
            target.Add(new NpgsqlParameter { Value = Parameters[i] ?? DBNull.Value });
        }
    }
}
