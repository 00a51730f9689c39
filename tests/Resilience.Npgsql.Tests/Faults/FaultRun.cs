using Npgsql;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>Runs a <see cref="WriteLoad"/> through one stack while a fault is injected, then checks the rows it left.</summary>
internal static class FaultRun
{
    public static async Task<FaultOutcome> RunAsync(string adminConnectionString, IWriteStack stack, string applicationName, IDatabaseFault fault, WriteLoad load)
    {
        string table;
        await using (var admin = NpgsqlDataSource.Create(adminConnectionString))
        {
            table = await WriteCheck.CreateTableAsync(admin, "fault");
        }

        var run = load.RunAsync(stack, table);
        await fault.InjectAsync(load, applicationName);
        var result = await run;

        // A fresh pool: the fault may have broken every pooled connection.
        await using (var admin = NpgsqlDataSource.Create(adminConnectionString))
        {
            return new FaultOutcome(fault.Name, result, await WriteCheck.VerifyAsync(admin, table, result));
        }
    }
}

/// <summary>One stack under one fault: its calls and what the rows say.</summary>
internal sealed record FaultOutcome(string Fault, LoadResult Load, WriteVerdict Verdict)
{
    public override string ToString() =>
        $"{Load.Stack,-12} {Fault,-32} failed {Load.Failed,5} / {Load.Calls.Count} (rejected unsent {Load.Rejected}), lost {Verdict.Lost}, duplicates {Verdict.Duplicates}, {Load.Duration.TotalSeconds:F1} s; {Load.TopFailures()}";
}
