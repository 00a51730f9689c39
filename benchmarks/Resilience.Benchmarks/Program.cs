using BenchmarkDotNet.Running;

// `dotnet run -c Release -- --filter *` runs everything; scripts/bench.sh --smoke runs a dry job for CI.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>The benchmark host.</summary>
public partial class Program;
