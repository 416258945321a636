// Scenarios the MPI tests run under `mpirun -np 2`: each rank prints "rank R key value" lines
// that the tests parse. Usage: Worker <scenario> [cpu|vulkan] [checked|unchecked|reduce-broadcast]
using System.Globalization;
using System.Security.Cryptography;
using Stax;
using Stax.Backends;
using Stax.Distributed;
using static Stax.Transforms;

string scenario = args.Length > 0 ? args[0] : "collectives";
if (args.Length > 1 && args[1] == "vulkan")
{
    Stax.Vulkan.VulkanBackend.Register();
    BackendRegistry.Default = BackendRegistry.Get("vulkan");
}
double timeout = scenario is "hang" or "die" ? 4 : 60;
Distributed.Initialize("batch", TimeSpan.FromSeconds(timeout));
string variant = args.Length > 2 ? args[2] : "checked";
if (variant == "unchecked") Distributed.VerifyCalls = false;                             // MPI_Iallreduce + MPI_Test
if (variant == "reduce-broadcast") Distributed.Algorithm = AllReduceAlgorithm.ReduceBroadcast; // MPI_Ireduce + MPI_Ibcast
int rank = Distributed.Rank, size = Distributed.Size;
// One write per line: Console's writer flushes in pieces of a few hundred bytes, and mpirun forwards
// each piece as it comes, so the other rank's lines could land inside a long one.
var stdout = Console.OpenStandardOutput();
void Put(string key, string value)
{
    Console.Out.Flush();
    stdout.Write(System.Text.Encoding.UTF8.GetBytes($"rank {rank} {key} {value}\n"));
    stdout.Flush();
}
string Show(Tensor t) => string.Join(",", t.AsType(DType.Float32).ToArray<float>().Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
Put("size", size.ToString(CultureInfo.InvariantCulture));
Put("backend", BackendRegistry.Default.Name);

switch (scenario)
{
    case "collectives":
    {
        // Member r holds [r+1, 10(r+1), -(r+1)]; the same values stacked are the Vmap reference.
        Tensor Member(int r) => Tensor.FromArray(new float[] { r + 1, 10f * (r + 1), -(r + 1) });
        var x = Member(rank);
        var all = Np.Stack(Enumerable.Range(0, size).Select(Member).ToArray());
        Tensor Body(Tensor v) => Np.Concatenate(new[]
        {
            Psum(v, "batch"), Pmean(v, "batch"), Pmax(v, "batch"), Pmin(v, "batch"),
            AllGather(v, "batch").Reshape(-1), AllGather(v, "batch", axis: 1).Reshape(-1),
            PsumScatter(Np.Arange(size).AsType(DType.Float32) + v[0], "batch").Reshape(1),
            AxisIndex("batch").AsType(DType.Float32).Reshape(1),
            Tensor.Scalar(AxisSize("batch")).Reshape(1),
        });
        Put("eager", Show(Body(x)));
        Put("jit", Show(Jit(Body)(x)));
        // Differentiation through psum: d/dv sum(psum(v) * w) is psum(w), the same for every member.
        var w = Tensor.FromArray(new float[] { 1, 2, 3 });
        Tensor Loss(Tensor v) => Np.Sum(Psum(v, "batch") * w);
        Put("grad", Show(Jit(Grad(Loss))(x)));
        Tensor Named(Func<Tensor, Tensor> f) => Vmap(a => new[] { f(a[0]) }, new int?[] { 0 }, axisName: "batch")(new[] { all })[0];
        Put("vmap", Show(Named(Body)[rank]));
        Put("vmapgrad", Show(Named(Grad(Loss))[rank]));
        break;
    }
    case "train":
    {
        // Linear regression, global batch 8 split in two; the step's gradient mean is fused.
        var (kw, kd) = Rng.Key(0);
        var p = new Dictionary<string, Tensor> { ["w"] = Rng.Normal(kw, new Shape(4, 3)), ["b"] = Np.Zeros(new Shape(3)) };
        var (kx, ky) = kd;
        var xAll = Rng.Normal(kx, new Shape(8, 4));
        var yAll = Rng.Normal(ky, new Shape(8, 3));
        int per = 8 / size;
        var x = xAll[(rank * per)..((rank + 1) * per)];
        var y = yAll[(rank * per)..((rank + 1) * per)];
        Tensor Sq(Tensor e) => Np.Mean(e * e);
        Dictionary<string, Tensor> Step(Dictionary<string, Tensor> q, Tensor xb, Tensor yb)
        {
            var g = Grad((Dictionary<string, Tensor> t) => Sq(Np.Matmul(xb, t["w"]) + t["b"] - yb))(q);
            g = GradientFusion.Pmean(g, "batch");
            return Tree.Map2((a, b) => a - 0.1 * b, q, g);
        }
        var step = Jit<Dictionary<string, Tensor>, Tensor, Tensor, Dictionary<string, Tensor>>(Step, "step");
        var q = p;
        for (int i = 0; i < 20; i++) q = step(q, x, y);
        var bytes = Tree.Leaves(q).SelectMany(t => t.ToBytes()).ToArray();
        Put("hash", Convert.ToHexString(SHA256.HashData(bytes)));
        // The same steps on one process over the whole global batch (the mean of the two shard
        // means is the mean over all rows: equal shard sizes).
        var full = Jit((Dictionary<string, Tensor> r, Tensor xb, Tensor yb) =>
        {
            var g = Grad((Dictionary<string, Tensor> t) => Sq(Np.Matmul(xb, t["w"]) + t["b"] - yb))(r);
            return Tree.Map2((a, b) => a - 0.1 * b, r, g);
        }, "full");
        var v = p;
        for (int i = 0; i < 20; i++) v = full(v, xAll, yAll);
        float diff = Tree.Leaves(q).Zip(Tree.Leaves(v)).Max(t => Np.Max(Np.Abs(t.First - t.Second)).Item<float>());
        Put("singlediff", diff.ToString("R", CultureInfo.InvariantCulture));
        Put("loss", Sq(Np.Matmul(xAll, q["w"]) + q["b"] - yAll).Item<float>().ToString("R", CultureInfo.InvariantCulture));
        break;
    }
    case "mismatch":
    {
        var f = Jit((Tensor t) => Psum(t, "batch"));
        try
        {
            f(Np.Ones(new Shape(3 + rank)));
            Put("mismatch", "not detected");
        }
        catch (ArgumentException e) { Put("mismatch", e.Message.ReplaceLineEndings(" ")); }
        // Nothing ran: the ranks are still in step and the next collective works.
        Put("after", Show(f(Np.Ones(new Shape(2)) * (rank + 1))));
        break;
    }
    case "fused":
    {
        // psum_fused of two leaves, eager and compiled: member r holds [r+1, 10(r+1), -(r+1)] and 2(r+1).
        Tensor[] Sums(Tensor a, Tensor b) => Stax.Distributed.FusedPsum.Bind(new[] { a, b }, "batch");
        var a = Tensor.FromArray(new float[] { rank + 1, 10f * (rank + 1), -(rank + 1) });
        var b = Tensor.FromArray(new float[] { 2f * (rank + 1) }).Reshape(1, 1);
        long before = Distributed.CollectiveCount;
        var e = Sums(a, b);
        Put("fused", Show(e[0]) + ";" + Show(e[1]));
        Put("fusedshape", e[1].Shape.ToString());
        var j = Jit((Tensor u, Tensor v) => { var s = Sums(u, v); return (s[0], s[1]); });
        var (j0, j1) = j(a, b);
        Put("fusedjit", Show(j0) + ";" + Show(j1));
        Put("fusedcollectives", (Distributed.CollectiveCount - before).ToString(CultureInfo.InvariantCulture));
        // Operands that die at the collective (intermediates of the compiled program) are summed in place;
        // one that is also returned is not overwritten. Three calls: the buffers are reused.
        var dead = Jit((Tensor u, Tensor v) =>
        {
            var d = u * 2f;
            var s = Sums(d, v + 1f);
            var kept = Sums(u * 3f, d)[1];
            return (s[0], s[1], kept, d);
        });
        for (int call = 0; call < 3; call++)
        {
            var (d0, d1, kept, d) = dead(a, b);
            Put($"fuseddead{call}", Show(d0) + ";" + Show(d1) + ";" + Show(kept) + ";" + Show(d) + ";" + Show(a));
        }
        // Different second shapes on the two ranks: refused on both before any data moves (without
        // the agreement check the ranks would reduce different counts: not run then).
        if (!Distributed.VerifyCalls) break;
        try
        {
            j(a, Np.Ones(new Shape(1, 1 + rank)));
            Put("mismatch", "not detected");
        }
        catch (ArgumentException ex) { Put("mismatch", ex.Message.ReplaceLineEndings(" ")); }
        var (k0, _) = j(a, b);
        Put("after", Show(k0));
        break;
    }
    case "zero":
    {
        // A two-layer net with sizes not divisible by the number of ranks (35, 7, 21, 3 and 1
        // elements), trained with the sharded optimizer and with the fused-mean data-parallel step.
        var (k1, k2) = Rng.Key(3);
        var p0 = new Dictionary<string, Tensor>
        {
            ["w1"] = Rng.Normal(k1, new Shape(5, 7)), ["b1"] = Np.Zeros(new Shape(7)),
            ["w2"] = Rng.Normal(k2, new Shape(7, 3)), ["b2"] = Np.Zeros(new Shape(3)), ["s"] = Np.Ones(new Shape(1)),
        };
        var (kx, ky) = Rng.Key(10 + rank); // each rank its own data
        var xb = Rng.Normal(kx, new Shape(6, 5));
        var yb = Rng.Normal(ky, new Shape(6, 3));
        Tensor Loss(Dictionary<string, Tensor> q) =>
            Np.Mean(Np.Square(Np.Matmul(Np.Tanh(Np.Matmul(xb, q["w1"]) + q["b1"]), q["w2"]) * q["s"] + q["b2"] - yb));
        string Hash(object? tree) =>
            Convert.ToHexString(SHA256.HashData(Tree.Leaves(tree).SelectMany(t => t.ToBytes()).ToArray()));
        float MaxDiff(object? a, object? b) =>
            Tree.Leaves(a).Zip(Tree.Leaves(b)).Max(t => Np.Max(Np.Abs(t.First - t.Second)).Item<float>());
        var optimizers = new[]
        {
            ("adam", Stax.Optim.Optax.Adam(0.01)), ("adamw", Stax.Optim.Optax.AdamW(0.01, weightDecay: 0.1)),
        };
        foreach (var (label, inner) in optimizers)
        {
            var tx = ZeroRedundancyOptimizer.Create(inner, "batch");
            var plain = Jit((Stax.Optim.TrainState st) =>
                st.ApplyGradients(GradientFusion.Pmean(Grad(Loss)((Dictionary<string, Tensor>)st.Params!), "batch")), "plain");
            var sharded = Jit((Stax.Optim.TrainState st) =>
                st.ApplyGradients(Grad(Loss)((Dictionary<string, Tensor>)st.Params!)), "sharded");
            var fast = Jit((Stax.Optim.TrainState st) =>
                ZeroRedundancyOptimizer.ApplyGradients(st, Grad(Loss)((Dictionary<string, Tensor>)st.Params!)), "fast");
            var a = Stax.Optim.TrainState.Create(p0, inner);
            var z = Stax.Optim.TrainState.Create(p0, tx);
            long full = Tree.Leaves(a.OptState).Sum(t => t.Size), mine = Tree.Leaves(z.OptState).Sum(t => t.Size);
            Put($"{label}statesize", $"{mine}/{full}");
            var f = Stax.Optim.TrainState.Create(p0, tx);
            for (int i = 0; i < 5; i++) { a = plain(a); z = sharded(z); f = fast(f); }
            // Checkpoint and resume: the full state assembled from the shards, then cut again.
            var gathered = ZeroRedundancyOptimizer.GatherState(z.OptState, inner, z.Params, "batch");
            Put($"{label}gatherhash", Hash(gathered));
            Put($"{label}plainstatehash", Hash(a.OptState));
            var resumed = z with { OptState = ZeroRedundancyOptimizer.ShardState(gathered, inner, z.Params, "batch") };
            for (int i = 0; i < 5; i++) { a = plain(a); z = sharded(z); f = fast(f); resumed = fast(resumed); }
            Put($"{label}fasthash", Hash(f.Params) + " " + Hash(f.OptState));
            Put($"{label}updatespathhash", Hash(z.Params) + " " + Hash(z.OptState));
            var eager = z.ApplyGradients(Grad(Loss)((Dictionary<string, Tensor>)z.Params!)); // the same step, not compiled
            Put($"{label}hash", Hash(z.Params));
            Put($"{label}plainhash", Hash(a.Params));
            Put($"{label}resumedhash", Hash(resumed.Params));
            Put($"{label}eagerhash", Hash(eager.Params) + " " + Hash(sharded(z).Params));
            Put($"{label}diff", MaxDiff(z.Params, a.Params).ToString("R", CultureInfo.InvariantCulture));
            Put($"{label}moved", MaxDiff(z.Params, p0).ToString("R", CultureInfo.InvariantCulture));
        }
        break;
    }
    case "hang":
        if (rank == 1) { Put("state", "hanging"); Thread.Sleep(Timeout.Infinite); }
        Put("state", "waiting");
        Psum(Np.Ones(new Shape(4)), "batch");
        Put("state", "returned");
        break;
    case "die":
        if (rank == 1) { Put("state", "dying"); System.Diagnostics.Process.GetCurrentProcess().Kill(); }
        Put("state", "waiting");
        Psum(Np.Ones(new Shape(4)), "batch");
        Put("state", "returned");
        break;
    default:
        Console.Error.WriteLine($"unknown scenario '{scenario}'");
        return 2;
}
Distributed.Shutdown();
return 0;
