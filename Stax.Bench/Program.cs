using BenchmarkDotNet.Running;
using Stax.Bench.Compare;

// Side-by-side comparison with numpy/OpenBLAS and torch (docs/performance.md):
//   dotnet run -c Release --project Stax.Bench -- compare [--quick] [--only sgemm,mlp] [--rounds N]
// The same workloads on the Vulkan backend (docs/performance.md, GPU section):
//   dotnet run -c Release --project Stax.Bench -- vulkan [--quick] [--large] [--steps N]
// Memory over long runs (docs/reliability.md): dotnet run -c Release --project Stax.Bench -- soak --workload jit|eager|varying
// Managed bytes allocated per jitted train step: dotnet run -c Release --project Stax.Bench -- alloc [steps]
// Time per program step of the jitted train steps: dotnet run -c Release --project Stax.Bench -- profile [cnn|mlp] [steps]
// (add --threads N for each step's chunks per parallel region and serial time at N threads)
// Run all suites: dotnet run -c Release --project Stax.Bench -- --filter '*'
// One suite, short job: dotnet run -c Release --project Stax.Bench -- --filter '*Elementwise*' --job short
if (args.Length > 0 && args[0] == "soak")
    return Stax.Bench.SoakCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "alloc")
    return Stax.Bench.AllocCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "profile")
    return Stax.Bench.ProfileCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "vulkan")
    return Stax.Bench.VulkanCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "compare")
    return CompareCommand.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
