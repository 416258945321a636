using static Stax.Transforms;

namespace Stax.Tests.Infrastructure;

/// <summary>
/// Conformance checks for transformation rules, in the spirit of jax.test_util.check_grads:
/// forward and reverse mode against central finite differences (float64), recursively to a
/// given order; vmap against a loop; jit against eager; EvalShape against real execution.
/// </summary>
public static class TransformCheck
{
    static double[] Flat(Tensor t) => t.ToDoubleArray();

    /// <summary>A random float64 tangent shaped like <paramref name="x"/> (zeros for non-float inputs).</summary>
    static Tensor RandomLike(Tensor x, int seed)
        => x.DType.IsFloat() ? TestData.Tensor(seed, x.Shape.ToArray(), x.DType, -1, 1) : x;

    static double Dot(Tensor[] a, Tensor[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (!a[i].DType.IsFloat() || !b[i].DType.IsFloat()) continue;
            var x = Flat(a[i]); var y = Flat(b[i]);
            for (int k = 0; k < x.Length; k++) s += x[k] * y[k];
        }
        return s;
    }

    static Tensor[] Axpy(Tensor[] xs, Tensor[] ts, double eps)
        => xs.Select((x, i) => x.DType.IsFloat() ? Lax.Add(x, Lax.Mul(ts[i], Np.FullLike(ts[i], eps))) : x).ToArray();

    /// <summary>
    /// Checks Jvp against central differences and Vjp against Jvp (the dot-product identity
    /// &lt;ct, J t&gt; = &lt;Jᵀ ct, t&gt;), then recurses on the derivative functions to <paramref name="order"/>.
    /// Inputs should be float64 for tight tolerances.
    /// </summary>
    public static void Grads(Func<Tensor[], Tensor[]> f, Tensor[] args, int order = 2, double eps = 1e-6, double tol = 1e-6, int seed = 0, string? name = null)
    {
        name ??= "function";
        var tangents = args.Select((a, i) => RandomLike(a, seed + 17 * i + 1)).ToArray();
        var (y, ty) = Jvp(f, args, tangents);
        // forward mode vs central differences
        var yPlus = f(Axpy(args, tangents, eps));
        var yMinus = f(Axpy(args, tangents, -eps));
        for (int k = 0; k < y.Length; k++)
        {
            if (!y[k].DType.IsFloat()) continue;
            var fd = Flat(yPlus[k]).Zip(Flat(yMinus[k]), (p, m) => (p - m) / (2 * eps)).ToArray();
            Check.Close(fd, Flat(ty[k]), tol, tol, $"{name}: jvp vs finite differences, output {k}");
        }
        // reverse mode vs forward mode
        var cts = y.Select((o, i) => RandomLike(o, seed + 31 * i + 7)).ToArray();
        var (_, pullback) = Vjp(f, args);
        var floatOuts = y.Select(o => o.DType.IsFloat()).ToArray();
        if (floatOuts.Any(b => b))
        {
            var ctArgs = cts.Select((c, i) => floatOuts[i] ? c : Np.ZerosLike(y[i])).ToArray();
            var grads = pullback(ctArgs);
            double lhs = Dot(ctArgs, ty), rhs = Dot(grads, tangents);
            Assert.True(Math.Abs(lhs - rhs) <= tol * (1 + Math.Abs(lhs)), $"{name}: vjp/jvp mismatch <ct, J t> = {lhs:R} but <J^T ct, t> = {rhs:R}");
        }
        if (order <= 1) return;
        // Recurse: the JVP and the VJP are themselves differentiable functions of the inputs.
        Grads(xs => Jvp(f, xs, tangents).Tangents, args, order - 1, eps, tol * 10, seed + 1, name + "'(jvp)");
        if (floatOuts.Any(b => b))
            Grads(xs => Vjp(f, xs).Vjp(cts.Select((c, i) => floatOuts[i] ? c : Np.ZerosLike(y[i])).ToArray()),
                args, order - 1, eps, tol * 10, seed + 2, name + "'(vjp)");
    }

    /// <summary>Checks Vmap over the given axes (null = not mapped) against a loop over the batch.</summary>
    public static void Vmap(Func<Tensor[], Tensor[]> f, Tensor[] batchedArgs, int?[] inAxes, double tol = 0, string? name = null)
    {
        int size = batchedArgs.Select((a, i) => inAxes[i] is int ax ? a.Shape[ax] : -1).Max();
        var outs = Transforms.Vmap(f, inAxes)(batchedArgs);
        for (int b = 0; b < size; b++)
        {
            var slice = batchedArgs.Select((a, i) => inAxes[i] is int ax ? Index(a, ax, b) : a).ToArray();
            var expected = f(slice);
            for (int k = 0; k < expected.Length; k++)
            {
                var got = Index(outs[k], 0, b);
                Assert.Equal(expected[k].Shape, got.Shape);
                Assert.Equal(expected[k].DType, got.DType);
                Check.Close(Flat(expected[k]), Flat(got), tol, tol, $"{name}: vmap element {b}, output {k}");
            }
        }
    }

    static Tensor Index(Tensor x, int axis, int i)
    {
        var idx = new Idx[x.Rank];
        for (int d = 0; d < x.Rank; d++) idx[d] = d == axis ? (Idx)i : Idx.All;
        return x[idx];
    }

    /// <summary>Checks that Jit gives what eager evaluation gives, bit for bit.</summary>
    public static void JitMatchesEager(Func<Tensor[], Tensor[]> f, Tensor[] args, string? name = null)
    {
        var eager = f(args);
        var jitted = Jit(f).Call(args);
        Assert.Equal(eager.Length, jitted.Length);
        for (int k = 0; k < eager.Length; k++)
        {
            Assert.Equal(eager[k].Aval with { Weak = false }, jitted[k].Aval with { Weak = false });
            Assert.Equal(eager[k].ToBytes(), jitted[k].ToBytes());
        }
    }

    /// <summary>Checks that EvalShape predicts the types of real execution.</summary>
    public static void EvalShapeMatches(Func<Tensor[], Tensor[]> f, Tensor[] args)
    {
        var real = f(args).Select(t => t.Aval).ToArray();
        long before = Tracing.EvalTrace.ThreadEvaluations;
        var predicted = EvalShape(f, args.Select(a => a.Aval).ToArray());
        Assert.Equal(before, Tracing.EvalTrace.ThreadEvaluations); // abstract evaluation runs no kernel
        Assert.Equal(real, predicted);
    }
}
