using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;
using Resilience.Benchmarks.Io;

// `dotnet run -c Release -- --filter '*'` runs everything; scripts/bench.sh wraps the usual runs (see benchmarks/README.md).
IConfig config = DefaultConfig.Instance;
if (PostgresBenchmarks.ConnectionString is null)
{
    Console.WriteLine($"// PostgresBenchmarks skipped: {PostgresBenchmarks.ConnectionVariable} is unset (set it to a PostgreSQL connection string to run them).");
    config = config.AddFilter(new SimpleFilter(static b => b.Descriptor.Type != typeof(PostgresBenchmarks)));
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);

/// <summary>The benchmark host.</summary>
public partial class Program;
