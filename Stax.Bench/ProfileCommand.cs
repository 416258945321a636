namespace Stax.Bench;

/// <summary>
/// <c>profile</c>: wall time per program step (primitive and operand shapes) of the comparison's
/// jitted train steps at 1 and 2 threads, averaged over the measured steps, largest first. Shows
/// where a step's time goes; the total includes the steps' own overheads.
/// <c>profile [cnn|mlp] [steps]</c>.
/// </summary>
public static class ProfileCommand
{
    public static int Run(string[] args)
    {
        string which = args.Length > 0 ? args[0] : "cnn";
        int steps = args.Length > 1 ? int.Parse(args[1]) : 20;
        foreach (int threads in new[] { 1, 2 })
            using (Config.UseThreads(threads))
            {
                var step = which == "mlp" ? TrainStep.Mlp() : TrainStep.Cnn();
                for (int i = 0; i < 5; i++) step.Run();
                var profile = new Stax.Backends.Cpu.StepProfile();
                Stax.Backends.Cpu.CpuExecutable.Profile = profile;
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                for (int i = 0; i < steps; i++) step.Run();
                double wall = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds / steps;
                Stax.Backends.Cpu.CpuExecutable.Profile = null;
                var top = profile.Top().ToArray();
                Console.WriteLine($"{which}-step-t{threads}: {wall:F2} ms per step, {top.Sum(e => e.Ms) / steps:F2} ms in program steps");
                foreach (var (n, total, count) in top.Take(30))
                    Console.WriteLine($"    {total / steps,8:F3} ms  x{count / steps}  {n}");
            }
        return 0;
    }
}
