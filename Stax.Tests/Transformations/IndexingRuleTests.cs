using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

/// <summary>Transformation rules of gather and the scatter family.</summary>
public class IndexingRuleTests
{
    static Tensor F64(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -1, 1);

    static Tensor Ints(int seed, int hi, params int[] shape)
    {
        var rng = new Random(seed);
        long n = shape.Aggregate(1L, (a, b) => a * b);
        return Tensor.FromArray(Enumerable.Range(0, (int)n).Select(_ => rng.Next(hi)).ToArray(), shape);
    }

    static void Check4(Func<Tensor[], Tensor[]> f, Tensor[] args, string name, bool grads = true)
    {
        if (grads) TransformCheck.Grads(f, args, order: 2, name: name);
        TransformCheck.JitMatchesEager(f, args, name);
        TransformCheck.EvalShapeMatches(f, args);
    }

    // A general gather: 2-component index vector into dims (0, 1) of a (4, 5, 3) operand, slices (1, 2, 3).
    static readonly GatherDimensionNumbers Dn2 = new(new[] { 1, 2 }, new[] { 0 }, new[] { 0, 1 });
    static Tensor Gather2(Tensor x, Tensor i, GatherScatterMode mode = GatherScatterMode.FillOrDrop)
        => Lax.Gather(x, i, Dn2, new[] { 1, 2, 3 }, mode: mode);

    [Fact]
    public void GatherGeneral()
    {
        var x = F64(1, 4, 5, 3);
        var i = Tensor.FromArray(new[] { 0, 0, 3, 2, 1, 3, 3, 0, 2, 1 }, 5, 2);
        foreach (var mode in new[] { GatherScatterMode.FillOrDrop, GatherScatterMode.Clip, GatherScatterMode.PromiseInBounds })
            Check4(xs => new[] { Gather2(xs[0], xs[1], mode) }, new[] { x, i }, $"gather {mode}");
        // Out-of-bounds starts: filled (FillOrDrop) or clamped (Clip) windows still differentiate.
        var oob = Tensor.FromArray(new[] { 0, 4, 3, 2, 9, 0 }, 3, 2);
        TransformCheck.Grads(xs => new[] { Gather2(xs[0], oob, GatherScatterMode.Clip) }, new[] { x }, order: 2, name: "gather clip oob");
        var grad = Grad(xs => Np.Sum(Gather2(xs[0], oob)), 0)(new[] { x })[0];
        // Only the in-bounds window (start (3, 2)) receives gradient.
        Assert.Equal(6.0, grad.ToDoubleArray().Sum(), 12);

        Func<Tensor[], Tensor[]> f = xs => new[] { Gather2(xs[0], xs[1]) };
        var xb0 = F64(2, 3, 4, 5, 3); var xb1 = F64(3, 4, 3, 5, 3); var xbLast = F64(4, 4, 5, 3, 3);
        var ib0 = Ints(5, 4, 3, 5, 2); var ibMid = Ints(6, 4, 5, 3, 2); var ibLast = Ints(7, 4, 5, 2, 3);
        TransformCheck.Vmap(f, new[] { xb0, i }, new int?[] { 0, null }, name: "gather operand-only 0");
        TransformCheck.Vmap(f, new[] { xb1, i }, new int?[] { 1, null }, name: "gather operand-only 1");
        TransformCheck.Vmap(f, new[] { xbLast, i }, new int?[] { 3, null }, name: "gather operand-only last");
        TransformCheck.Vmap(f, new[] { x, ib0 }, new int?[] { null, 0 }, name: "gather indices-only 0");
        TransformCheck.Vmap(f, new[] { x, ibMid }, new int?[] { null, 1 }, name: "gather indices-only mid");
        TransformCheck.Vmap(f, new[] { x, ibLast }, new int?[] { null, 2 }, name: "gather indices-only index-vector axis");
        TransformCheck.Vmap(f, new[] { xb0, ib0 }, new int?[] { 0, 0 }, name: "gather both 0");
        TransformCheck.Vmap(f, new[] { xb1, ibMid }, new int?[] { 1, 1 }, name: "gather both mid");
        TransformCheck.Vmap(f, new[] { xbLast, ibLast }, new int?[] { 3, 2 }, name: "gather both last");
    }

    [Fact]
    public void PerExampleGatherUnderVmap()
    {
        // Each example picks its own rows: vmap(take) with both operand and indices batched.
        var x = F64(10, 6, 7, 3); // batch 6, table (7, 3)
        var idx = Ints(11, 7, 6, 4);
        Func<Tensor[], Tensor[]> take = xs => new[] { Np.Take(xs[0], xs[1], axis: 0) };
        TransformCheck.Vmap(take, new[] { x, idx }, new int?[] { 0, 0 }, name: "per-example take");
        TransformCheck.Vmap(take, new[] { Lax.Transpose(x, 1, 2, 0), Lax.Transpose(idx, 1, 0) }, new int?[] { 2, 1 }, name: "per-example take, last axes");
        // Gradient of a per-example gather (vmap inside grad) scatters back per example.
        var w = F64(12, 6, 4, 3);
        var grad = Grad(xs => Np.Sum(Vmap(take, new int?[] { 0, 0 })(new[] { xs[0], idx })[0] * w), 0)(new[] { x })[0];
        var expected = new double[6 * 7 * 3];
        var wd = w.ToDoubleArray(); var id = idx.ToArray<int>();
        for (int b = 0; b < 6; b++)
            for (int k = 0; k < 4; k++)
                for (int c = 0; c < 3; c++)
                    expected[(b * 7 + id[b * 4 + k]) * 3 + c] += wd[(b * 4 + k) * 3 + c];
        Check.Close(expected, grad.ToDoubleArray(), 1e-12, 1e-12, "grad of per-example take");
        // Vmap of grad of take too.
        Func<Tensor[], Tensor[]> gradTake = xs => Grad(ys => Np.Sum(Np.Take(ys[0], xs[1], axis: 0) * Np.Take(ys[0], xs[1], axis: 0)), 0)(new[] { xs[0] });
        TransformCheck.Vmap(gradTake, new[] { x, idx }, new int?[] { 0, 0 }, tol: 1e-12, name: "vmap(grad(take))");
    }

    [Fact]
    public void TakeAndTakeAlongAxis()
    {
        var x = F64(20, 4, 5);
        var i = Tensor.FromArray(new[] { 3, 0, 3, -1, 2, 1 }, 2, 3);
        Func<Tensor[], Tensor[]> take0 = xs => new[] { Np.Take(xs[0], i, axis: 0) };
        Func<Tensor[], Tensor[]> take1 = xs => new[] { Np.Take(xs[0], i, axis: 1) };
        Func<Tensor[], Tensor[]> takeFlat = xs => new[] { Np.Take(xs[0], i) };
        var ia = Tensor.FromArray(new[] { 4, 0, 1, 1, 3, 2, 2, 0 }, 4, 2);
        Func<Tensor[], Tensor[]> along = xs => new[] { Np.TakeAlongAxis(xs[0], ia, axis: 1) };
        foreach (var (name, f) in new[] { ("take axis 0", take0), ("take axis 1", take1), ("take flat", takeFlat), ("take_along_axis", along) })
        {
            Check4(f, new[] { x }, name);
            TransformCheck.Vmap(f, new[] { F64(21, 3, 4, 5) }, new int?[] { 0 }, name: name);
            TransformCheck.Vmap(f, new[] { F64(22, 4, 5, 3) }, new int?[] { 2 }, name: name);
        }
        // Hand-checked gradient of take with repeated indices: counts of each row.
        var g = Grad(xs => Np.Sum(Np.Take(xs[0], i, axis: 0)), 0)(new[] { x })[0].ToDoubleArray();
        var counts = new[] { 1.0, 1, 1, 3 }; // rows 3, 0, 3, 3(-1), 2, 1
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 5; c++)
                Assert.Equal(counts[r], g[r * 5 + c]);
        // take_along_axis with batched indices under vmap (indices-only and both).
        Func<Tensor[], Tensor[]> alongArgs = xs => new[] { Np.TakeAlongAxis(xs[0], xs[1], axis: 1) };
        TransformCheck.Vmap(alongArgs, new[] { x, Ints(23, 5, 3, 4, 2) }, new int?[] { null, 0 }, name: "take_along_axis indices-only");
        TransformCheck.Vmap(alongArgs, new[] { F64(24, 4, 3, 5), Ints(25, 5, 4, 2, 3) }, new int?[] { 1, 2 }, name: "take_along_axis both");
    }

    static readonly ScatterDimensionNumbers RowDn = new(new[] { 1 }, new[] { 0 }, new[] { 0 });
    static readonly Tensor DupIdx = Tensor.FromArray(new[] { 1, 3, 1, 0, 1 }, 5, 1);
    static readonly Tensor UniqIdx = Tensor.FromArray(new[] { 4, 0, 2 }, 3, 1);

    public static IEnumerable<object[]> Scatters() => new[] { "scatter", "scatter-add", "scatter-mul", "scatter-min", "scatter-max" }.Select(n => new object[] { n });

    static Primitive ScatterPrim(string name) => name switch
    {
        "scatter" => Prims.Scatter,
        "scatter-add" => Prims.ScatterAdd,
        "scatter-mul" => Prims.ScatterMul,
        "scatter-min" => Prims.ScatterMin,
        _ => Prims.ScatterMax,
    };

    static Func<Tensor[], Tensor[]> ScatterFn(Primitive p, bool unique, GatherScatterMode mode = GatherScatterMode.FillOrDrop)
        => xs => new[] { p.Bind1(new ScatterParams(RowDn, UniqueIndices: unique, Mode: mode), xs[0], xs[1], xs[2]) };

    [Theory]
    [MemberData(nameof(Scatters))]
    public void ScatterRules(string name)
    {
        var p = ScatterPrim(name);
        var x = F64(30, 5, 3);
        var yDup = F64(31, 5, 3);
        var yUniq = F64(32, 3, 3);
        // Duplicate indices (scatter-mul: only the operand is differentiated there).
        if (p == Prims.ScatterMul)
        {
            TransformCheck.Grads(xs => ScatterFn(p, false)(new[] { xs[0], DupIdx, yDup }), new[] { x }, order: 2, name: name + " dup (operand)");
            var ex = Assert.Throws<NotSupportedException>(() => Jvp(ScatterFn(p, false), new[] { x, DupIdx, yDup }, new[] { x, DupIdx, yDup }));
            Assert.Contains("scatter-mul", ex.Message);
        }
        else
            TransformCheck.Grads(ScatterFn(p, false), new[] { x, DupIdx, yDup }, order: 2, name: name + " dup");
        // Unique indices (scatter: exercises the unique-only transpose rule).
        TransformCheck.Grads(ScatterFn(p, true), new[] { x, UniqIdx, yUniq }, order: 2, name: name + " unique");
        // Out-of-bounds windows are dropped (FillOrDrop) or clamped (Clip).
        var oob = Tensor.FromArray(new[] { 7, 2, -3 }, 3, 1);
        TransformCheck.Grads(ScatterFn(p, p == Prims.ScatterMul), new[] { x, oob, yUniq }, order: 1, name: name + " oob drop");
        TransformCheck.Grads(ScatterFn(p, true, GatherScatterMode.Clip), new[] { x, oob, yUniq }, order: 1, name: name + " oob clip");
        Check4(ScatterFn(p, false), new[] { x, DupIdx, yDup }, name, grads: false);

        var f = ScatterFn(p, false);
        var xb = F64(33, 4, 5, 3); var ib = Ints(34, 5, 5, 1, 4); var yb = F64(35, 5, 4, 3);
        TransformCheck.Vmap(f, new[] { xb, DupIdx, yDup }, new int?[] { 0, null, null }, name: name + " operand");
        TransformCheck.Vmap(f, new[] { x, DupIdx, yb }, new int?[] { null, null, 1 }, name: name + " updates");
        TransformCheck.Vmap(f, new[] { x, ib, yDup }, new int?[] { null, 2, null }, name: name + " indices");
        TransformCheck.Vmap(f, new[] { xb, ib, yb }, new int?[] { 0, 2, 1 }, name: name + " all");
        TransformCheck.Vmap(f, new[] { Lax.Transpose(xb, 1, 2, 0), ib, Lax.Transpose(yb, 0, 2, 1) }, new int?[] { 2, 2, 2 }, name: name + " all last");
        // Integer scatters batch too.
        var xi = Ints(36, 9, 4, 5, 3); var yi = Ints(37, 9, 5, 3);
        TransformCheck.Vmap(f, new[] { xi, DupIdx, yi }, new int?[] { 0, null, null }, name: name + " int32");
        TransformCheck.JitMatchesEager(f, new[] { Ints(38, 9, 5, 3), DupIdx, yi }, name + " int32");
    }

    [Fact]
    public void ScatterAddDuplicateIndicesUnderGrad()
    {
        var x = F64(40, 5, 3);
        var y = F64(41, 5, 3);
        var w = F64(42, 5, 3);
        Func<Tensor[], Tensor> loss = xs => Np.Sum(Np.ScatterAdd(xs[0], Tensor.FromArray(new[] { 1, 3, 1, 0, 1 }, 5), xs[1]) * w);
        var g = Grad(loss, 0, 1)(new[] { x, y });
        Check.Close(w.ToDoubleArray(), g[0].ToDoubleArray(), 0, 0, "operand gradient");
        var wd = w.ToDoubleArray();
        var rows = new[] { 1, 3, 1, 0, 1 };
        var expected = rows.SelectMany(r => wd.Skip(r * 3).Take(3)).ToArray();
        Check.Close(expected, g[1].ToDoubleArray(), 0, 0, "updates gradient: each update gets its row's weight");
        // scatter (set) with duplicates: only the last update of row 1 wins, the others get nothing.
        var gs = Grad(xs => Np.Sum(xs[0].At(Tensor.FromArray(new[] { 1, 3, 1, 0, 1 }, 5)).Set(xs[1]) * w), 0, 1)(new[] { x, y });
        var opExpected = wd.Select((v, k) => k / 3 is 0 or 1 or 3 ? 0.0 : v).ToArray();
        Check.Close(opExpected, gs[0].ToDoubleArray(), 0, 0, "scatter operand gradient");
        var updExpected = new double[15];
        foreach (var (u, r) in new[] { (1, 3), (3, 0), (4, 1) })
            for (int c = 0; c < 3; c++) updExpected[u * 3 + c] = wd[r * 3 + c];
        Check.Close(updExpected, gs[1].ToDoubleArray(), 0, 0, "scatter updates gradient: the winning update only");
    }

    [Fact]
    public void ScatterMinMaxTiesAverage()
    {
        var x = Tensor.FromArray(new[] { 1.0, 5.0, 2.0 }, 3);
        var y = Tensor.FromArray(new[] { 3.0, 3.0, 1.0 }, 3, 1);
        var i = Tensor.FromArray(new[] { 0, 0, 2 }, 3, 1);
        var dn = new ScatterDimensionNumbers(Array.Empty<int>(), new[] { 0 }, new[] { 0 });
        Func<Tensor[], Tensor[]> f = xs => new[] { Lax.ScatterMax(xs[0], i, Lax.Reshape(xs[1], new Shape(3)), dn) };
        var (outs, ts) = Jvp(f, new[] { x, y }, new[] { Tensor.FromArray(new[] { 10.0, 20, 30 }, 3), Tensor.FromArray(new[] { 1.0, 3, 5 }, 3, 1) });
        Assert.Equal(new[] { 3.0, 5, 2 }, outs[0].ToDoubleArray());
        // Position 0: the two tied updates average (1 + 3) / 2; position 2: the operand keeps its value.
        Assert.Equal(new[] { 2.0, 20, 30 }, ts[0].ToDoubleArray());
    }
    [Fact]
    public void ScatterTransposeNeedsUniqueIndices()
    {
        var x = F64(50, 5, 3);
        var y = F64(51, 3, 3);
        var ct = F64(52, 5, 3);
        foreach (var unique in new[] { true, false })
        {
            var idx = unique ? UniqIdx : Tensor.FromArray(new[] { 4, 0, 4 }, 3, 1);
            var cj = MakeJaxpr(xs => ScatterFn(Prims.Scatter, unique)(new[] { xs[0], idx, xs[1] }), x, y);
            if (!unique)
            {
                var ex = Assert.Throws<NotSupportedException>(() => Stax.Tracing.Transposer.BackwardPass(cj.Jaxpr, cj.Consts, new Tensor?[] { null, null }, new Tensor?[] { ct }));
                Assert.Contains("scatter: transposition is only defined with unique_indices", ex.Message);
                continue;
            }
            var cts = Stax.Tracing.Transposer.BackwardPass(cj.Jaxpr, cj.Consts, new Tensor?[] { null, null }, new Tensor?[] { ct });
            var c = ct.ToDoubleArray();
            // Rows 4, 0, 2 are overwritten: their operand cotangent is zero and they flow to the updates.
            Check.Close(c.Select((v, k) => k / 3 is 0 or 2 or 4 ? 0.0 : v).ToArray(), cts[0]!.ToDoubleArray(), 0, 0, "operand cotangent");
            Check.Close(new[] { 4, 0, 2 }.SelectMany(r => c.Skip(r * 3).Take(3)).ToArray(), cts[1]!.ToDoubleArray(), 0, 0, "updates cotangent");
        }
    }

    [Fact]
    public void EmptyShapes()
    {
        var x = F64(60, 4, 3);
        var none = Tensor.FromArray(Array.Empty<int>(), 0);
        Func<Tensor[], Tensor[]> take = xs => new[] { Np.Take(xs[0], none, axis: 0) };
        Check4(take, new[] { x }, "take nothing");
        TransformCheck.Vmap(take, new[] { F64(61, 2, 4, 3) }, new int?[] { 0 }, name: "take nothing");
        Assert.Equal(new double[12], Grad(xs => Np.Sum(take(xs)[0]), 0)(new[] { x })[0].ToDoubleArray());
        Func<Tensor[], Tensor[]> add = xs => new[] { Np.ScatterAdd(xs[0], none, xs[1]) };
        Check4(add, new[] { x, F64(62, 0, 3) }, "scatter-add nothing");
        TransformCheck.Vmap(add, new[] { x, F64(63, 0, 2, 3) }, new int?[] { null, 1 }, name: "scatter-add nothing");
    }
}
