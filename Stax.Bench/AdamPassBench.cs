using System.Diagnostics;
using System.Runtime.Intrinsics;
using Stax.Optim;

namespace Stax.Bench;

/// <summary>
/// <c>profile adam [rounds]</c>: the fused Adam update of one 784x512 weight (jitted alone, donated
/// state) by the tile interpreter with and without its software prefetch and by the loop generated at compile time
/// (<c>STAX_CPU_CHAIN_CODEGEN</c>), against a hand-written one-pass loop
/// with the same arithmetic, interleaved call by call in one process, right after a call on the same
/// arrays ("warm") and after 48 MB of other data were touched ("cold"). 30 calls per round.
/// </summary>
public static class AdamPassBench
{
    public static int Run(int rounds)
    {
        const int rows = 784, cols = 512, n = rows * cols;
        var rng = new Random(1);
        float[] R() { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)rng.NextDouble() - 0.5f; return a; }
        var adam = Optimizers.Adam(1e-3);
        var g = Tensor.FromArray(R(), new[] { rows, cols });
        var state = Tree.Flatten(adam.Init((object)Tensor.FromArray(R(), new[] { rows, cols }))).Leaves.ToArray();
        var def = Tree.Flatten(adam.Init((object)g)).Def;
        int ns = state.Length;
        Func<Tensor[], Tensor[]> Step()
        {
            var jitted = Transforms.Jit((Tensor[] a) =>
                Tree.Flatten(adam.Update(a[ns + 1], a[ns], Tree.Unflatten<OptState>(def, a[..ns]))).Leaves.ToArray(),
                "adam", Enumerable.Range(0, ns).ToArray());
            return a => jitted.Call(a);
        }
        var args = new Tensor[ns + 2];
        // The interpreter's step is compiled (at its first call) with generated loops switched off.
        var interpreted = Step();
        var generated = Step();
        var step = interpreted;
        var old = Environment.GetEnvironmentVariable("STAX_CPU_CHAIN_CODEGEN");
        Environment.SetEnvironmentVariable("STAX_CPU_CHAIN_CODEGEN", "0");
        Fused();
        Environment.SetEnvironmentVariable("STAX_CPU_CHAIN_CODEGEN", old);
        step = generated;
        Fused();
        void Fused()
        {
            Array.Copy(state, args, ns);
            args[ns] = g; args[ns + 1] = Tensor.Scalar(3, DType.Int32);
            var o = step(args);
            Array.Copy(o, state, ns);
        }
        float[] hx = R(), hm = R(), hv = R(), hg = R();
        for (int i = 0; i < n; i++) hv[i] = Math.Abs(hv[i]);
        void Hand() => HandLoop(hg, hm, hv, hx, 0.1f, 0.9f, 0.001f, 0.999f, 0.5f, 0.25f, 1e-3f, 1e-8f);
        var junk = new byte[48 << 20];
        int sum = 0;
        void Touch() { for (int i = 0; i < junk.Length; i += 64) sum += junk[i]++; }
        for (int i = 0; i < 40; i++)   // past tiered compilation
        {
            step = interpreted; Fused();
            step = generated; Fused();
            Hand();
        }
        // Prefetch distances in tiles (0: off); the default compares off against the built-in setting.
        int[] cfgs = (Environment.GetEnvironmentVariable("STAX_PREFETCH_A_B") ?? $"0,{Stax.Backends.Cpu.TilePrefetch.Distance},0,"
            + Stax.Backends.Cpu.TilePrefetch.Distance).Split(',').Select(int.Parse).ToArray();
        // Configurations interleaved call by call, so that the machine's load hits all alike.
        int nc = cfgs.Length + 2, reps = rounds * 30;
        var times = new double[nc, 2, reps];
        for (int r = 0; r < reps; r++)
            for (int cold = 0; cold < 2; cold++)
                for (int c = 0; c < nc; c++)
                {
                    if (c < cfgs.Length)
                        Stax.Backends.Cpu.TilePrefetch.Distance = cfgs[c];
                    step = c < cfgs.Length ? interpreted : generated;
                    Action f = c <= cfgs.Length ? Fused : Hand;
                    if (cold == 1) Touch(); else f();
                    long t0 = Stopwatch.GetTimestamp();
                    f();
                    times[c, cold, r] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                }
        string Stat(int c, int cold)
        {
            var t = Enumerable.Range(0, reps).Select(r => times[c, cold, r]).Order().ToArray();
            return $"min {t[0]:F3} p25 {t[reps / 4]:F3} median {t[reps / 2]:F3}";
        }
        for (int c = 0; c < nc; c++)
        {
            string name = c < cfgs.Length ? $"fused, prefetch {cfgs[c]}" : c == cfgs.Length ? "fused, generated" : "hand loop";
            Console.WriteLine($"{name,-20} warm {Stat(c, 0)} | cold {Stat(c, 1)} ms");
        }
        return sum == -1 ? 1 : 0;
    }

    // Stax's Adam formula, one pass, AVX-512 (same operations and order, no contraction).
    static void HandLoop(float[] g, float[] m, float[] v, float[] x, float a1, float b1, float a2, float b2,
        float c1, float c2, float lr, float eps)
    {
        var (va1, vb1, va2, vb2) = (Vector512.Create(a1), Vector512.Create(b1), Vector512.Create(a2), Vector512.Create(b2));
        var (vc1, vc2, vlr, veps) = (Vector512.Create(c1), Vector512.Create(c2), Vector512.Create(lr), Vector512.Create(eps));
        for (int i = 0; i + 16 <= g.Length; i += 16)
        {
            var gi = Vector512.Create(g.AsSpan(i, 16));
            var mi = va1 * gi + vb1 * Vector512.Create(m.AsSpan(i, 16));
            var vi = va2 * (gi * gi) + vb2 * Vector512.Create(v.AsSpan(i, 16));
            mi.CopyTo(m.AsSpan(i, 16));
            vi.CopyTo(v.AsSpan(i, 16));
            var xi = Vector512.Create(x.AsSpan(i, 16)) - vlr * (mi / vc1) / (Vector512.Sqrt(vi / vc2) + veps);
            xi.CopyTo(x.AsSpan(i, 16));
        }
    }
}
