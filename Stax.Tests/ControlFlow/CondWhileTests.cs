using Stax.Tests.Infrastructure;
using static Stax.Transforms;
using CF = Stax.ControlFlow;

namespace Stax.Tests.ControlFlow;

/// <summary>cond/switch and while_loop against C# if/switch and loops.</summary>
public class CondWhileTests
{
    static Tensor T(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -1, 1);

    // Branches with different operations; w is captured by one branch only.
    static readonly Tensor W = T(50, 3);
    static Tensor[] TrueFn(Tensor[] a) => new[] { Np.Sin(a[0]) * a[1] + W, Np.Sum(a[0]) };
    static Tensor[] FalseFn(Tensor[] a) => new[] { a[0] * a[0] - a[1], Np.Sum(Np.Exp(a[1])) };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CondMatchesIfAndDifferentiates(bool pred)
    {
        var a = new[] { T(1, 3), T(2, 3) };
        Func<Tensor[], Tensor[]> f = xs => CF.Cond(Tensor.Scalar(pred ? 1 : 0, DType.Bool), TrueFn, FalseFn, xs);
        var want = pred ? TrueFn(a) : FalseFn(a);
        var got = f(a);
        for (int i = 0; i < 2; i++) Check.Close(want[i].ToDoubleArray(), got[i].ToDoubleArray(), 1e-12, 1e-12);
        TransformCheck.Grads(f, a, order: 2, name: "cond");
        TransformCheck.JitMatchesEager(f, a, "cond");
        TransformCheck.EvalShapeMatches(f, a);
    }

    [Fact]
    public void CondWithATracedPredicateUnderJitAndGrad()
    {
        // The predicate depends on the input: jit stages one cond equation; both outcomes are tested.
        Func<Tensor[], Tensor[]> f = xs => CF.Cond(Np.Sum(xs[0]) > 0, TrueFn, FalseFn, xs);
        var jaxpr = MakeJaxpr(f, T(1, 3), T(2, 3));
        Assert.Single(jaxpr.Jaxpr.Eqns, e => e.Primitive.Name == "cond");
        Assert.Contains("branch1=", jaxpr.ToString());
        foreach (var s in new[] { 1.0, -1.0 })
        {
            var a = new[] { Np.Abs(T(1, 3)) * s, T(2, 3) };
            TransformCheck.JitMatchesEager(f, a, "cond traced");
            TransformCheck.Grads(f, a, order: 2, name: "cond traced");
            var jitGrad = Jit(Grad(xs => Np.Sum(f(xs)[0]) + f(xs)[1], 0, 1)).Call(a);
            var eagerGrad = Grad(xs => Np.Sum(f(xs)[0]) + f(xs)[1], 0, 1)(a);
            for (int i = 0; i < 2; i++) Check.Close(eagerGrad[i].ToDoubleArray(), jitGrad[i].ToDoubleArray(), 1e-12, 1e-12);
            var jf = Jit(f);
            var gradJit = Grad(xs => Np.Sum(jf.Call(xs)[0]) + jf.Call(xs)[1], 0, 1)(a);
            for (int i = 0; i < 2; i++) Check.Close(eagerGrad[i].ToDoubleArray(), gradJit[i].ToDoubleArray(), 1e-12, 1e-12);
        }
    }

    [Fact]
    public void VmapWithABatchedPredicateSelects()
    {
        Func<Tensor[], Tensor[]> f = xs => CF.Cond(xs[2] > 0, TrueFn, FalseFn, new[] { xs[0], xs[1] });
        var x = T(3, 6, 3);
        var y = T(4, 3, 6);
        var p = T(5, 6);                                   // mixed signs: both branches taken
        Assert.Contains(p.ToDoubleArray(), v => v > 0);
        Assert.Contains(p.ToDoubleArray(), v => v < 0);
        TransformCheck.Vmap(f, new[] { x, y, p }, new int?[] { 0, 1, 0 }, 1e-12, "cond batched predicate");
        // Unbatched predicate, batched operands: stays a cond.
        Func<Tensor[], Tensor[]> g = xs => CF.Cond(Tensor.Scalar(1, DType.Bool), TrueFn, FalseFn, xs);
        TransformCheck.Vmap(g, new[] { x, T(2, 3) }, new int?[] { 0, null }, 1e-12, "cond unbatched predicate");
        // Gradient of a vmapped cond with a batched predicate.
        TransformCheck.Grads(xs => Vmap(f, new int?[] { 0, 1, 0 })(new[] { xs[0], xs[1], p }), new[] { x, y }, order: 1, name: "grad(vmap(cond))");
    }

    [Fact]
    public void SwitchPicksClampedBranch()
    {
        var branches = new Func<Tensor[], Tensor[]>[] { a => new[] { a[0] + 1 }, a => new[] { a[0] * 2 }, a => new[] { Np.Sin(a[0]) } };
        var x = T(1, 4);
        for (int i = -1; i <= 3; i++)
        {
            int k = Math.Clamp(i, 0, 2);
            var got = CF.Switch(Tensor.Scalar(i, DType.Int32), branches, new[] { x })[0];
            Check.Close(branches[k](new[] { x })[0].ToDoubleArray(), got.ToDoubleArray(), 1e-12, 1e-12, $"index {i}");
            TransformCheck.Grads(a => CF.Switch(Tensor.Scalar(i, DType.Int32), branches, a), new[] { x }, order: 2, name: $"switch {i}");
        }
        var idx = Tensor.FromArray(new[] { 0, 2, 1, 5, -3 }, 5);
        TransformCheck.Vmap(a => CF.Switch(a[0], branches, new[] { a[1] }), new[] { idx, T(2, 5, 4) }, new int?[] { 0, 0 }, 1e-12, "switch vmap");
    }

    [Fact]
    public void CondErrors()
    {
        Check.Throws<ArgumentException>(() => CF.Cond(Tensor.Scalar(1, DType.Bool), a => new[] { a[0] }, a => new[] { Np.Stack(new[] { a[0], a[0] }, 0) }, new[] { T(1, 3) }),
            "Cond", "same types", "f64[3]", "f64[2,3]");
        Check.Throws<ArgumentException>(() => CF.Cond(Tensor.Scalar(1, DType.Bool), a => new[] { a[0] }, a => new[] { a[0], a[0] }, new[] { T(1, 3) }), "Cond", "same types");
        Check.Throws<ArgumentException>(() => CF.Cond(Tensor.Zeros(new Shape(2), DType.Bool), a => a, a => a, new[] { T(1, 3) }), "Cond", "scalar");
        Check.Throws<ArgumentException>(() => CF.Switch(Tensor.Scalar(0.5), new Func<Tensor[], Tensor[]>[] { a => a }, new[] { T(1, 3) }), "Switch", "integer");
    }

    // while: Newton-like iteration x <- x - 0.5 * (x*x - c) / x until |x*x - c| < tol, counting steps.
    static Tensor[] Loop(Tensor[] a) => CF.WhileLoop(c => Np.Max(Np.Abs(c[0] * c[0] - a[1])) > 1e-9 & c[1] < 50,
        c => new[] { c[0] - 0.5 * (c[0] * c[0] - a[1]) / c[0], c[1] + 1 }, new[] { a[0], Tensor.Scalar(0, DType.Int32) });

    static (Tensor X, int Steps) LoopUnrolled(Tensor x0, Tensor c)
    {
        var x = x0;
        int k = 0;
        while (Np.Max(Np.Abs(x * x - c)).Item<double>() > 1e-9 && k < 50) { x = x - 0.5 * (x * x - c) / x; k++; }
        return (x, k);
    }

    [Fact]
    public void WhileLoopMatchesCSharpLoop()
    {
        var x0 = Np.Abs(T(1, 3)) + 1;
        var c = Np.Abs(T(2, 3)) + 0.5;
        var got = Loop(new[] { x0, c });
        var (x, k) = LoopUnrolled(x0, c);
        Check.Close(x.ToDoubleArray(), got[0].ToDoubleArray(), 1e-12, 1e-12);
        Assert.Equal(k, got[1].Item<int>());
        TransformCheck.JitMatchesEager(Loop, new[] { x0, c }, "while");
        TransformCheck.EvalShapeMatches(Loop, new[] { x0, c });
        Assert.Single(MakeJaxpr(Loop, x0, c).Jaxpr.Eqns, e => e.Primitive.Name == "while");
    }

    [Fact]
    public void WhileLoopForwardModeAndReverseModeError()
    {
        // A fixed trip count through a traced bound: forward mode works, reverse mode raises a clear error.
        Func<Tensor[], Tensor[]> f = a => new[] { CF.ForiLoop(Tensor.Scalar(0, DType.Int32), Tensor.Scalar(3, DType.Int32), (i, x) => Np.Sin(x) * a[1], a[0]) };
        var a = new[] { T(1, 3), T(2, 3) };
        var (y, t) = Jvp(f, a, new[] { Np.OnesLike(a[0]), Np.ZerosLike(a[1]) });
        var eps = 1e-6;
        var yp = f(new[] { a[0] + eps, a[1] })[0];
        var ym = f(new[] { a[0] - eps, a[1] })[0];
        Check.Close(((yp - ym) / (2 * eps)).ToDoubleArray(), t[0].ToDoubleArray(), 1e-7, 1e-7);
        var e = Check.Throws<NotSupportedException>(() => Grad(xs => Np.Sum(f(xs)[0]))(a), "reverse-mode", "Scan", "ForiLoop");
        Assert.Contains("static", e.Message);
        // Linearize still works (its forward evaluation).
        var (outs, lin) = Linearize(f, a);
        Check.Close(t[0].ToDoubleArray(), lin(new[] { Np.OnesLike(a[0]), Np.ZerosLike(a[1]) })[0].ToDoubleArray(), 1e-12, 1e-12);
        Check.Close(y[0].ToDoubleArray(), outs[0].ToDoubleArray(), 1e-12, 1e-12);
    }

    [Fact]
    public void VmapOfWhileWithBatchedPredicateRunsUntilAllAreDone()
    {
        // Different elements need different numbers of iterations.
        var x0 = Np.Abs(T(3, 5, 2)) + 1;
        var c = Np.Abs(T(4, 5, 2)) * 3 + 0.1;
        TransformCheck.Vmap(Loop, new[] { x0, c }, new int?[] { 0, 0 }, 1e-12, "while batched predicate");
        TransformCheck.Vmap(Loop, new[] { x0, c[0] }, new int?[] { 0, null }, 1e-12, "while batched carry");
        var counts = Vmap(Loop, new int?[] { 0, 0 })(new[] { x0, c })[1].ToArray<int>();
        Assert.True(counts.Distinct().Count() > 1, "the test needs different trip counts per element");
        // Unbatched predicate: only constants in the body are batched.
        Func<Tensor[], Tensor[]> fixedTrips = a => new[] { CF.WhileLoop<Tensor[]>(s => s[1] < 4, s => new[] { s[0] * a[1] + 1, s[1] + 1 }, new[] { a[0], Tensor.Scalar(0, DType.Int32) })[0] };
        TransformCheck.Vmap(fixedTrips, new[] { T(1, 3), T(5, 4, 3) }, new int?[] { null, 0 }, 1e-12, "while unbatched predicate");
        // Forward mode of a vmapped while.
        var (_, tan) = Jvp(Vmap(Loop, new int?[] { 0, 0 }), new[] { x0, c }, new[] { Np.ZerosLike(x0), Np.OnesLike(c) });
        // d sqrt(c)/dc = 1 / (2 sqrt c) at convergence.
        Check.Close((0.5 / Np.Sqrt(c)).ToDoubleArray(), tan[0].ToDoubleArray(), 1e-6, 1e-6);
    }

    [Fact]
    public void WhileErrors()
    {
        Check.Throws<ArgumentException>(() => CF.WhileLoop(c => c[0], c => c, new[] { T(1, 3) }), "WhileLoop", "bool scalar");
        Check.Throws<ArgumentException>(() => CF.WhileLoop(c => Tensor.Scalar(1, DType.Bool), c => new[] { c[0].AsType(DType.Float32) }, new[] { T(1, 3) }), "WhileLoop", "carry");
        Check.Throws<ArgumentException>(() => CF.WhileLoop(c => Tensor.Scalar(1, DType.Bool), c => new[] { c[0], c[0] }, new[] { T(1, 3) }), "WhileLoop", "structure");
    }
}
