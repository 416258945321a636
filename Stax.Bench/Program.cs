using BenchmarkDotNet.Running;

// Run all suites: dotnet run -c Release --project Stax.Bench -- --filter '*'
// One suite, short job: dotnet run -c Release --project Stax.Bench -- --filter '*Elementwise*' --job short
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
