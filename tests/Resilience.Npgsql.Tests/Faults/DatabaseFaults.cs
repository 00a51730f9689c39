using Npgsql;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>A fault injected into a real PostgreSQL while a <see cref="WriteLoad"/> runs, triggered by the load's progress.</summary>
internal interface IDatabaseFault
{
    /// <summary>Gets the name shown in the comparison table.</summary>
    string Name { get; }

    /// <summary>Injects the fault into the load's run and returns once the database is healthy again.</summary>
    /// <returns>A task that completes when the fault is over.</returns>
    Task InjectAsync(WriteLoad load, string applicationName);
}

/// <summary>Terminates every backend of the application (<c>pg_terminate_backend</c>) in rounds; the server keeps accepting connections.</summary>
internal sealed class TerminateBackendsFault(string adminConnectionString, int rounds, int firstAt, int every) : IDatabaseFault
{
    public string Name => $"backends terminated ({rounds} rounds)";

    public int Terminated { get; private set; }

    public async Task InjectAsync(WriteLoad load, string applicationName)
    {
        await using var admin = NpgsqlDataSource.Create(adminConnectionString);
        for (var round = 0; round < rounds; round++)
        {
            await load.WhenCompletedAsync(firstAt + (round * every));
            await using var command = admin.CreateCommand(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = applicationName });
            Terminated += (int)(long)(await command.ExecuteScalarAsync())!;
        }
    }
}

/// <summary><c>pg_ctl restart -m fast</c>: every backend ends and the server is away for well under a second.</summary>
internal sealed class RestartFault(PostgresServer server, int at) : IDatabaseFault
{
    public string Name => "pg_ctl restart -m fast";

    public async Task InjectAsync(WriteLoad load, string applicationName)
    {
        await load.WhenCompletedAsync(at);
        await server.RestartAsync();
    }
}

/// <summary>The server stops (<c>pg_ctl stop -m fast</c>: connections refused) for <paramref name="duration"/>, then starts again.</summary>
internal sealed class OutageFault(PostgresServer server, int at, TimeSpan duration) : IDatabaseFault
{
    public string Name => $"{duration.TotalSeconds:0.#} s outage";

    public async Task InjectAsync(WriteLoad load, string applicationName)
    {
        await load.WhenCompletedAsync(at);
        await server.PauseAsync();

        // The outage's length is the fault itself: real time, since the real server is down for it.
        await Task.Delay(duration);
        await server.ResumeAsync();
    }
}
