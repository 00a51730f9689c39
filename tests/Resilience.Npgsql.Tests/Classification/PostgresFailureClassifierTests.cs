using Npgsql;
using Resilience.Failures;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Classification;

[Collection(PostgresTests.Name)]
public sealed class PostgresFailureClassifierTests(PostgresFixture postgres)
{
    [Theory]
    [InlineData("SELECT 1/0", "22012", FailureKind.InvalidInput)]
    [InlineData("SELECT 'x'::int", "22P02", FailureKind.InvalidInput)]
    [InlineData("SELECT * FROM no_such_table", "42P01", FailureKind.Permanent)]
    [InlineData("SET statement_timeout = 50; SELECT pg_sleep(5)", "57014", FailureKind.Timeout)]
    public async Task Classify_RealServerError_MapsSqlStateToKind(string sql, string sqlState, FailureKind expected)
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);

        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());

        Assert.Equal(sqlState, error.SqlState);
        Assert.Equal(expected, PostgresFailureClassifier.Classify(error));
    }

    [Fact]
    public async Task Classify_UniqueViolation_IsConflict()
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand("CREATE TEMP TABLE unique_probe (id int PRIMARY KEY); INSERT INTO unique_probe VALUES (1)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using var duplicate = new NpgsqlCommand("INSERT INTO unique_probe VALUES (1)", connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => duplicate.ExecuteNonQueryAsync());

        Assert.Equal(FailureKind.Conflict, PostgresFailureClassifier.Classify(error));
    }

    [Theory]
    [InlineData("40001", FailureKind.Transient)]
    [InlineData("40P01", FailureKind.Transient)]
    [InlineData("08P01", FailureKind.Permanent)]
    [InlineData("23P01", FailureKind.Conflict)]
    [InlineData("23001", FailureKind.Conflict)]
    [InlineData("40003", FailureKind.UnknownOutcome)]
    [InlineData("53100", FailureKind.Unavailable)]
    [InlineData("28P01", FailureKind.Configuration)]
    [InlineData("23503", FailureKind.Conflict)]
    [InlineData("23514", FailureKind.InvalidInput)]
    public void ClassifySqlState_DocumentedCodes(string sqlState, FailureKind expected) =>
        Assert.Equal(expected, PostgresFailureClassifier.ClassifySqlState(sqlState));

    [Fact]
    public async Task Translate_BackendTerminatedOnLiveServer_SaysTerminatedNotShuttingDown()
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString + ";Pooling=false");
        await using var victim = await dataSource.OpenConnectionAsync();
        await using (var kill = dataSource.CreateCommand("SELECT pg_terminate_backend($1)"))
        {
            kill.Parameters.Add(new NpgsqlParameter<int> { TypedValue = victim.ProcessID });
            await kill.ExecuteScalarAsync();
        }

        await using var command = new NpgsqlCommand("SELECT 1", victim);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
        var translated = PostgresErrorTranslator.Translate(error);

        Assert.Equal("57P01", error.SqlState);
        Assert.Equal(FailureKind.Unavailable, translated.FailureKind);
        Assert.Contains("terminated the connection", translated.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("shutting down", translated.Message, StringComparison.Ordinal);
    }
}
