using Npgsql;
using Resilience.Failures;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Errors;

[Collection(PostgresTests.Name)]
public sealed class PostgresErrorTranslatorTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Translate_BadInput_MessageHasNoSqlNorValues()
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT $1::int AS secret_column");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "s3cr3t-value" });
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());

        var translated = PostgresErrorTranslator.Translate(error);

        Assert.Contains("s3cr3t-value", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-value", translated.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret_column", translated.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SELECT", translated.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(FailureKind.InvalidInput, translated.FailureKind);
        Assert.Equal(ErrorIds.Validation, translated.ErrorId);
        Assert.Equal("22P02", translated.SqlState);
        Assert.Same(error, translated.InnerException);
    }

    [Fact]
    public async Task Translate_UniqueViolation_NamesConstraintButNotTheRowData()
    {
        // Include Error Detail makes Npgsql keep the server's Detail (with the row's values): the translation must still drop it.
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString + ";Include Error Detail=true");
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand("CREATE TEMP TABLE translate_probe (email text CONSTRAINT translate_probe_email_key UNIQUE); INSERT INTO translate_probe VALUES ('alice@example.org')", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using var duplicate = new NpgsqlCommand("INSERT INTO translate_probe VALUES ($1)", connection);
        duplicate.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "alice@example.org" });
        var error = await Assert.ThrowsAsync<PostgresException>(() => duplicate.ExecuteNonQueryAsync());

        var translated = PostgresErrorTranslator.Translate(error);

        Assert.Contains("alice@example.org", error.Detail ?? string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", translated.Message, StringComparison.Ordinal);
        Assert.Contains("translate_probe_email_key", translated.Message, StringComparison.Ordinal);
        Assert.Equal(FailureKind.Conflict, translated.FailureKind);
        Assert.Equal(ErrorIds.AlreadyExists, translated.ErrorId);
    }

    [Fact]
    public void Translate_AlreadyTranslated_ReturnsSameInstance()
    {
        var translated = new DatabaseException("x", FailureKind.Timeout, ErrorIds.Timeout, "57014", false, null);

        Assert.Same(translated, PostgresErrorTranslator.Translate(translated));
    }

    [Fact]
    public void Translate_ConnectionStringInMessage_NotCopied()
    {
        var error = new NpgsqlException("Failed to connect to 10.0.0.1:5432 with Password=hunter2");

        var translated = PostgresErrorTranslator.Translate(error);

        Assert.DoesNotContain("hunter2", translated.Message, StringComparison.Ordinal);
        Assert.True(translated.FailedBeforeSend);
        Assert.Equal(ErrorIds.DatabaseUnavailable, translated.ErrorId);
    }
}
