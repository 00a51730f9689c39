using System.Diagnostics;

namespace Resilience.Testing;

/// <summary>
/// A real PostgreSQL server for integration tests: the one named by RESILIENCE_PG_CONNECTION (set by
/// scripts/test.sh), or a throwaway cluster started through scripts/postgres.sh when none is given.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string ConnectionVariable = "RESILIENCE_PG_CONNECTION";

    private readonly string? _clusterDirectory;

    private PostgresServer(string connectionString, string? clusterDirectory)
    {
        ConnectionString = connectionString;
        _clusterDirectory = clusterDirectory;
    }

    public string ConnectionString { get; }

    /// <summary>Whether this instance owns its cluster (and so may pause and resume it).</summary>
    public bool IsDedicated => _clusterDirectory is not null;

    /// <summary>The shared server from the environment, else a new throwaway cluster.</summary>
    public static async Task<PostgresServer> StartAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(ConnectionVariable);
        return string.IsNullOrWhiteSpace(fromEnvironment)
            ? await StartDedicatedAsync()
            : new PostgresServer(fromEnvironment, null);
    }

    /// <summary>Always a new cluster of its own, for tests that stop and restart the server.</summary>
    public static async Task<PostgresServer> StartDedicatedAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "resilience-pg-" + Guid.NewGuid().ToString("N")[..12]);
        var output = await RunScriptAsync("start", directory);
        var connectionString = output.Trim().Split('\n')[^1].Trim();
        return new PostgresServer(connectionString, directory);
    }

    /// <summary>Stops the server but keeps its data, so a test can observe "database down".</summary>
    public Task PauseAsync() => RunScriptAsync("pause", RequireDedicated());

    /// <summary>Starts a paused server again on the same port.</summary>
    public Task ResumeAsync() => RunScriptAsync("resume", RequireDedicated());

    /// <summary>Restarts the server (<c>pg_ctl restart -m fast</c>): every backend ends, the server comes back on the same port.</summary>
    public Task RestartAsync() => RunScriptAsync("restart", RequireDedicated());

    public async ValueTask DisposeAsync()
    {
        if (_clusterDirectory is not null)
        {
            await RunScriptAsync("stop", _clusterDirectory);
        }
    }

    private string RequireDedicated() =>
        _clusterDirectory ?? throw new InvalidOperationException("Only a dedicated server (StartDedicatedAsync) can be paused.");

    private static async Task<string> RunScriptAsync(string command, string directory)
    {
        var script = FindScript();
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(command);
        start.ArgumentList.Add(directory);
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException("Could not start bash to run " + script);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"scripts/postgres.sh {command} failed (exit {process.ExitCode}). The integration tests need PostgreSQL 15 " +
                $"from Debian's packages: run 'sudo apt-get install -y postgresql-15', or set {ConnectionVariable} to a " +
                $"server you own.\n{await stderr}");
        }

        return await stdout;
    }

    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scripts", "postgres.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("scripts/postgres.sh not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>One PostgreSQL server shared by every test class in the "postgres" collection.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    public string ConnectionString => Server.ConnectionString;

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresTests : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
