using System.Globalization;
using System.Text;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>One cluster of its own that the fault tests stop, restart and terminate backends on.</summary>
public sealed class FaultServerFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync() => _server = await PostgresServer.StartDedicatedAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The fault tests run alone: the comparison with the usual stack must not be skewed by other tests' load.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultTests : ICollectionFixture<FaultServerFixture>
{
    public const string Name = "faults";
}

/// <summary>
/// Ours with its default settings against the usual stack (Npgsql + a retry on <c>IsTransient</c>), measured in the same
/// run on a real PostgreSQL under real faults: never more failed calls, no acknowledged write lost, none duplicated; and
/// during a long outage, fast failure once the circuit is open and few connection attempts.
/// </summary>
[Collection(FaultTests.Name)]
public sealed class FaultComparisonTests(FaultServerFixture fixture, ITestOutputHelper output)
{
    private const int Writers = 8;
    private const int WritesPerWriter = 500;

    [Fact]
    public async Task Defaults_ShortFaults_FailNoMoreCallsThanUsualStackAndLoseOrDuplicateNoWrite()
    {
        var server = fixture.Server;
        var connectionString = server.ConnectionString;
        var faults = new Func<IDatabaseFault>[]
        {
            () => new TerminateBackendsFault(connectionString, rounds: 5, firstAt: 400, every: 600),
            () => new RestartFault(server, at: 1000),
            () => new OutageFault(server, at: 1000, TimeSpan.FromSeconds(2)),
        };

        var rows = new List<(FaultOutcome Usual, FaultOutcome Ours)>();
        foreach (var fault in faults)
        {
            FaultOutcome usual;
            await using (var stack = new UsualStack(connectionString + ";Application Name=fault-usual"))
            {
                usual = await FaultRun.RunAsync(connectionString, stack, "fault-usual", fault(), new WriteLoad(Writers, WritesPerWriter));
            }

            FaultOutcome ours;
            await using (var stack = new ResilientStack(connectionString + ";Application Name=fault-ours"))
            {
                ours = await FaultRun.RunAsync(connectionString, stack, "fault-ours", fault(), new WriteLoad(Writers, WritesPerWriter));
            }

            output.WriteLine(usual.ToString());
            output.WriteLine(ours.ToString());
            rows.Add((usual, ours));
        }

        output.WriteLine(Table(rows));
        foreach (var (usual, ours) in rows)
        {
            Assert.True(ours.Load.Failed <= usual.Load.Failed, $"{ours.Fault}: ours failed {ours.Load.Failed}, the usual stack {usual.Load.Failed}. {ours.Load.TopFailures()}");
            Assert.Equal(0, ours.Verdict.Lost);
            Assert.Equal(0L, ours.Verdict.Duplicates);
        }
    }

    [Fact]
    public async Task Defaults_LongOutage_FastFailOnceOpenWithFewConnectionAttemptsAndRecover()
    {
        var server = fixture.Server;
        await using var usualProxy = new CountingProxy(server.ConnectionString + ";Application Name=outage-usual");
        await using var oursProxy = new CountingProxy(server.ConnectionString + ";Application Name=outage-ours");
        await using var usual = new UsualStack(usualProxy.ConnectionString);
        await using var ours = new ResilientStack(oursProxy.ConnectionString);

        var outcomes = await LongOutageRun.RunAsync(
            server,
            [(usual, usualProxy), (ours, oursProxy)],
            server.ConnectionString,
            outage: TimeSpan.FromSeconds(20),
            pace: TimeSpan.FromMilliseconds(50),
            writers: Writers,
            recoveryLimit: TimeSpan.FromSeconds(30));
        foreach (var outcome in outcomes)
        {
            output.WriteLine(outcome.ToString());
        }

        var (baseline, resilient) = (outcomes[0], outcomes[1]);
        Assert.NotNull(resilient.FirstFastRejection);
        Assert.NotNull(resilient.SteadyP99);
        Assert.True(resilient.SteadyP99 < TimeSpan.FromMilliseconds(50), $"steady-state failures took up to {resilient.SteadyP99}");
        Assert.True(resilient.ConnectionAttempts * 2 <= baseline.ConnectionAttempts, $"ours {resilient.ConnectionAttempts} connection attempts, the usual stack {baseline.ConnectionAttempts}");
        Assert.True(resilient.FirstSuccessAfterUp < TimeSpan.FromSeconds(15), $"first success {resilient.FirstSuccessAfterUp} after the server was back"); // one 5 s break, with room for a slow start
    }

    private static string Table(List<(FaultOutcome Usual, FaultOutcome Ours)> rows)
    {
        var table = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"| fault during the load ({Writers} writers × {WritesPerWriter} inserts) | usual stack: failed | usual: lost / duplicates | ours: failed | ours: lost / duplicates |")
            .AppendLine("|---|---|---|---|---|");
        foreach (var (usual, ours) in rows)
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {usual.Fault} | {usual.Load.Failed} / {usual.Load.Calls.Count} | {usual.Verdict.Lost} / {usual.Verdict.Duplicates} | {ours.Load.Failed} / {ours.Load.Calls.Count} | {ours.Verdict.Lost} / {ours.Verdict.Duplicates} |");
        }

        return table.ToString();
    }
}
