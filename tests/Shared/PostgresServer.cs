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
    /// <param name="durable">Keep fsync and synchronous commit on (a crash test); otherwise the fast, non-durable settings.</param>
    public static async Task<PostgresServer> StartDedicatedAsync(bool durable = false)
    {
        var directory = Path.Combine(Path.GetTempPath(), "resilience-pg-" + Guid.NewGuid().ToString("N")[..12]);
        var output = await RunScriptAsync("start", directory, fast: !durable);
        var connectionString = output.Trim().Split('\n')[^1].Trim();
        return new PostgresServer(connectionString, directory);
    }

    /// <summary>Stops the server but keeps its data, so a test can observe "database down".</summary>
    public Task PauseAsync() => RunScriptAsync("pause", RequireDedicated());

    /// <summary>Starts a paused server again on the same port.</summary>
    public Task ResumeAsync() => RunScriptAsync("resume", RequireDedicated());

    /// <summary>Restarts the server (<c>pg_ctl restart -m fast</c>): every backend ends, the server comes back on the same port.</summary>
    public Task RestartAsync() => RunScriptAsync("restart", RequireDedicated());

    /// <summary>
    /// Crashes the server: SIGKILL to the postmaster and every process it started, so nothing is flushed or shut down
    /// cleanly (as a power cut looks to PostgreSQL, minus the OS cache). <see cref="ResumeAsync"/> runs crash recovery.
    /// </summary>
    public void Crash()
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(RequireDedicated(), "data", "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        var children = new List<int>();
        foreach (var stat in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(stat), out var pid) && ParentOf(pid) == postmaster)
            {
                children.Add(pid);
            }
        }

        // The postmaster first, so it cannot start a replacement for a child killed before it. Then wait until every
        // one is reaped: a new postmaster refuses to start while the old PID still exists, even as a zombie.
        var killed = new List<Process>();
        foreach (var pid in children.Prepend(postmaster))
        {
            try
            {
                var process = Process.GetProcessById(pid);
                process.Kill();
                killed.Add(process);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        foreach (var process in killed)
        {
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                throw new InvalidOperationException($"PostgreSQL process {process.Id} still exists 30 s after SIGKILL.");
            }

            process.Dispose();
        }

        static int ParentOf(int pid)
        {
            try
            {
                // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
                var text = File.ReadAllText($"/proc/{pid}/stat");
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                return -1;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_clusterDirectory is not null)
        {
            await RunScriptAsync("stop", _clusterDirectory);
        }
    }

    private string RequireDedicated() =>
        _clusterDirectory ?? throw new InvalidOperationException("Only a dedicated server (StartDedicatedAsync) can be paused.");

    private static async Task<string> RunScriptAsync(string command, string directory, bool fast = false)
    {
        var script = FindScript();
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["RESILIENCE_PG_FAST"] = fast ? "1" : "0";
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

/// <summary>
/// The PostgreSQL server shared by every test class of the process that takes this fixture, whichever collection it is
/// in, so classes can run in parallel (each test makes its own database or tables) without one cluster per class.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartSharedAsync);

    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    public string ConnectionString => Server.ConnectionString;

    public async Task InitializeAsync() => _server = await Shared.Value;

    // The shared server outlives every class; a throwaway cluster is stopped when the test process exits.
    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task<PostgresServer> StartSharedAsync()
    {
        var server = await PostgresServer.StartAsync();
        if (server.IsDedicated)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        return server;
    }
}

/// <summary>Test classes that share the server and must not run beside each other.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresTests : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>
/// Test classes that measure the whole process (its open handles, its meters) and so run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideTests : ICollectionFixture<PostgresFixture>
{
    public const string Name = "process-wide";
}
