using System.Globalization;
using System.Text.RegularExpressions;

namespace Stax.Distributed.Tests;

/// <summary>The MNIST example with --distributed against the same run in one process.</summary>
[Collection(MpiJobs.Name)]
public sealed class MnistDistributedTests
{
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(300);
    static string Mnist => Path.Combine(AppContext.BaseDirectory, "Mnist.dll");

    static double Accuracy(MpiRun run)
    {
        var m = Regex.Matches(run.Output, @"test accuracy: ([0-9.]+)");
        Assert.True(m.Count == 1, $"expected one final accuracy line (rank 0 reports alone):\n{run.Output}");
        return double.Parse(m[0].Groups[1].Value, CultureInfo.InvariantCulture);
    }

    static void SameParametersOnEveryRank(MpiRun run)
    {
        var digests = Regex.Matches(run.Output, @"rank (\d) parameters sha256 ([0-9A-F]{64})").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.True(digests.Count == 2, run.Output);
        Assert.Equal(digests["0"], digests["1"]);
    }

    [MpiFact]
    public void Two_processes_match_one_process_at_the_same_global_batch_and_resume()
    {
        var dir = Directory.CreateTempSubdirectory("stax-mnist-mpi").FullName;
        try
        {
            string[] common = { "--epochs", "1", "--limit", "6000", "--batch", "128" };
            var single = MpiEnvironment.RunProgram(0, Limit, Mnist, common.Concat(new[] { "--plot", Path.Combine(dir, "single.svg") }).ToArray());
            Assert.True(single.ExitCode == 0, single.Output);
            var ck = Path.Combine(dir, "ck.stax");
            var plot = Path.Combine(dir, "dist.svg");
            var dist = MpiEnvironment.RunProgram(2, Limit, Mnist, common.Concat(new[] { "--distributed", "--plot", plot, "--checkpoint", ck }).ToArray());
            Assert.True(dist.ExitCode == 0, dist.Output);
            Assert.Contains("data-parallel over 2 processes", dist.Output);
            SameParametersOnEveryRank(dist);
            // The same global batches, each split in two: the same gradients up to float rounding.
            double a1 = Accuracy(single), a2 = Accuracy(dist);
            Assert.True(Math.Abs(a1 - a2) <= 0.01, $"one process {a1}, two processes {a2}");
            Assert.True(a2 >= 0.85, $"accuracy {a2}");
            Assert.True(File.Exists(plot) && File.Exists(ck));
            Assert.Single(Regex.Matches(dist.Output, "loss curve written"));

            var resumed = MpiEnvironment.RunProgram(2, Limit, Mnist, new[] { "--epochs", "2", "--limit", "6000", "--distributed", "--plot", plot, "--checkpoint", ck, "--resume" });
            Assert.True(resumed.ExitCode == 0, resumed.Output);
            Assert.Contains("after epoch 1 (step 46)", resumed.Output); // 6000 / 128 steps in epoch 1
            Assert.Contains("epoch 2: test accuracy", resumed.Output);
            Assert.DoesNotContain("epoch 1: test accuracy", resumed.Output);
            SameParametersOnEveryRank(resumed);
            Assert.True(Accuracy(resumed) >= a2 - 0.01, resumed.Output);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static string Digest(MpiRun run)
    {
        SameParametersOnEveryRank(run);
        return Regex.Match(run.Output, @"rank 0 parameters sha256 ([0-9A-F]{64})").Groups[1].Value;
    }

    [MpiFact]
    public void The_sharded_optimizer_trains_the_same_bits_and_its_checkpoints_are_interchangeable()
    {
        var dir = Directory.CreateTempSubdirectory("stax-mnist-zero").FullName;
        try
        {
            string[] Args(string ck, int epochs, params string[] more) => new[]
                {
                    "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--limit", "3000", "--batch", "128",
                    "--distributed", "--plot", Path.Combine(dir, "p.svg"), "--checkpoint", Path.Combine(dir, ck),
                }.Concat(more).ToArray();
            MpiRun Run(string[] args)
            {
                var run = MpiEnvironment.RunProgram(2, Limit, Mnist, args);
                Assert.True(run.ExitCode == 0, run.Output);
                return run;
            }
            // Two ranks: the reduce-scatter's sums are the all-reduce's (one addition per element)
            // and Adam is elementwise, so sharding changes no bit of the parameters.
            var plain = Run(Args("plain.stax", 1));
            var sharded = Run(Args("sharded.stax", 1, "--shard-optimizer"));
            Assert.Equal(Digest(plain), Digest(sharded));
            // A checkpoint holds the unsharded state either way: resume each from the other's.
            var plainFromSharded = Run(Args("sharded.stax", 2, "--resume"));
            var shardedFromPlain = Run(Args("plain.stax", 2, "--resume", "--shard-optimizer"));
            Assert.Contains("after epoch 1 (step 23)", shardedFromPlain.Output); // 3000 / 128 steps in epoch 1
            Assert.Equal(Digest(plainFromSharded), Digest(shardedFromPlain));
            Assert.NotEqual(Digest(plain), Digest(shardedFromPlain));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
