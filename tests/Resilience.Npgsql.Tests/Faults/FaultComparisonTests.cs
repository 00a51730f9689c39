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
/// run on a real PostgreSQL during a long outage: fast failure once the circuit is open, few connection attempts, and
/// recovery. The short faults (backends killed, restart, 2 s outage, lost replies) are the chaos suite's scenario 1.
/// </summary>
[Collection(FaultTests.Name)]
public sealed class FaultComparisonTests(FaultServerFixture fixture, ITestOutputHelper output)
{
    private const int Writers = 8;

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
}
