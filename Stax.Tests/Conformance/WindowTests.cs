using Stax.Tests.Infrastructure;

namespace Stax.Tests.Conformance;

public class WindowTests
{
    internal static readonly Primitive[] ReduceWindows = { Prims.ReduceWindowSum, Prims.ReduceWindowMax, Prims.ReduceWindowMin };

    internal static ReduceWindowParams W(int[] dims, int[]? strides = null, int[]? lo = null, int[]? hi = null, int[]? baseDil = null, int[]? winDil = null)
    {
        int r = dims.Length;
        int[] Ones() => Enumerable.Repeat(1, r).ToArray();
        return new ReduceWindowParams(dims, strides ?? Ones(), lo ?? new int[r], hi ?? new int[r], baseDil ?? Ones(), winDil ?? Ones());
    }

    /// <summary>(operand shape, window) cases: pooling, padding, both dilations, 0-size operands and outputs, rank 0.</summary>
    static IEnumerable<(int[] Shape, ReduceWindowParams P)> Cases()
    {
        yield return (new[] { 1, 4, 4, 1 }, W(new[] { 1, 2, 2, 1 }, new[] { 1, 2, 2, 1 }));
        yield return (new[] { 2, 5, 7, 3 }, W(new[] { 1, 3, 3, 1 }, new[] { 1, 2, 2, 1 }, new[] { 0, 1, 1, 0 }, new[] { 0, 1, 1, 0 }));
        yield return (new[] { 7 }, W(new[] { 3 }));
        yield return (new[] { 7 }, W(new[] { 3 }, new[] { 2 }, new[] { 2 }, new[] { 1 }));
        yield return (new[] { 9 }, W(new[] { 2 }, new[] { 1 }, new[] { 1 }, new[] { 1 }, new[] { 2 }, new[] { 1 }));
        yield return (new[] { 9 }, W(new[] { 3 }, new[] { 2 }, new[] { 0 }, new[] { 0 }, new[] { 1 }, new[] { 3 }));
        yield return (new[] { 4, 6 }, W(new[] { 2, 3 }, new[] { 1, 2 }, new[] { 1, 0 }, new[] { 2, 1 }, new[] { 3, 2 }, new[] { 2, 1 }));
        yield return (new[] { 1 }, W(new[] { 1 }));
        yield return (new[] { 0 }, W(new[] { 1 }));
        yield return (new[] { 0 }, W(new[] { 2 }, new[] { 1 }, new[] { 1 }, new[] { 1 }));
        yield return (new[] { 3 }, W(new[] { 5 }));
        yield return (new[] { 3, 0, 4 }, W(new[] { 2, 1, 2 }));
        yield return (new int[0], W(new int[0]));
        yield return (new[] { 2, 3 }, W(new[] { 3, 1 }, new[] { 1, 1 }, new[] { 2, 0 }, new[] { 2, 0 }));
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void ReduceWindowMatchesReference(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        int seed = 0;
        foreach (var dt in new[] { DType.Float32, DType.Float64, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool })
            foreach (var (shape, p) in Cases())
                foreach (var prim in ReduceWindows)
                {
                    if (dt == DType.Bool && prim == Prims.ReduceWindowSum) continue;
                    var x = TestData.Tensor(seed++, shape, dt, specials: true);
                    double tol = prim == Prims.ReduceWindowSum && dt is DType.Float16 or DType.BFloat16 ? 2e-2 : prim == Prims.ReduceWindowSum && dt == DType.Float32 ? 1e-6 : 0;
                    Check.AgainstReference(prim, p, new[] { x }, tol, tol, $"{isa} {prim.Name} {x.Aval} {p}");
                }
    }

    [Fact]
    public void ReduceWindowHandValues()
    {
        var x = Tensor.FromArray(new[] { 1f, 5f, 2f, 4f, 3f, 0f, 7f, 6f }, 2, 4);
        var max = Lax.ReduceWindowMax(x, new[] { 2, 2 }, new[] { 2, 2 });
        Assert.Equal(new Shape(1, 2), max.Shape);
        Assert.Equal(new[] { 5f, 7f }, max.ToArray<float>());
        var sum = Lax.ReduceWindowSum(x, new[] { 1, 2 }, new[] { 1, 2 }, new[] { (0, 0), (1, 1) });
        Assert.Equal(new[] { 1f, 7f, 4f, 3f, 7f, 6f }, sum.ToArray<float>());
        var min = Lax.ReduceWindowMin(x, new[] { 2, 1 }, padding: new[] { (1, 0), (0, 0) });
        Assert.Equal(new[] { 1f, 5f, 2f, 4f, 1f, 0f, 2f, 4f }, min.ToArray<float>());
        // Padding with the identity: max over an all-padding window is -inf.
        var pad = Lax.ReduceWindowMax(Tensor.FromArray(new[] { 1f }, 1), new[] { 1 }, padding: new[] { (1, 0) });
        Assert.Equal(new[] { float.NegativeInfinity, 1f }, pad.ToArray<float>());
        var nan = Lax.ReduceWindowMax(Tensor.FromArray(new[] { 1f, float.NaN, 3f }), new[] { 2 });
        Assert.True(float.IsNaN(nan.ToArray<float>()[0]) && float.IsNaN(nan.ToArray<float>()[1]));
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void LargeWindowsMatchReferenceAndAreThreadIndependent(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        var x = TestData.Tensor(41, new[] { 1, 260, 260, 1 });
        var p = W(new[] { 1, 3, 3, 1 }, new[] { 1, 1, 1, 1 }, new[] { 0, 1, 1, 0 }, new[] { 0, 1, 1, 0 });
        Check.AgainstReference(Prims.ReduceWindowMax, p, new[] { x });
        byte[] Run(int threads) { using (Config.UseThreads(threads)) return Prims.ReduceWindowSum.Bind1(p, x).ToBytes(); }
        Assert.True(Run(1).SequenceEqual(Run(2)));
        var pool = new SelectAndScatterAddParams(Prims.Ge, new[] { 1, 2, 2, 1 }, new[] { 1, 2, 2, 1 }, new int[4], new int[4]);
        var src = TestData.Tensor(42, new[] { 1, 130, 130, 1 });
        byte[] Scatter(int threads) { using (Config.UseThreads(threads)) return Prims.SelectAndScatterAdd.Bind1(pool, src, x).ToBytes(); }
        Assert.True(Scatter(1).SequenceEqual(Scatter(2)));
    }

    // ------------------------------------------------------------------ select_and_scatter_add / select_and_gather_add

    static IEnumerable<(int[] Shape, int[] Win, int[] Strides, int[] Lo, int[] Hi)> SelectCases()
    {
        yield return (new[] { 1, 4, 4, 1 }, new[] { 1, 2, 2, 1 }, new[] { 1, 2, 2, 1 }, new int[4], new int[4]);
        yield return (new[] { 2, 5, 6, 3 }, new[] { 1, 3, 3, 1 }, new[] { 1, 1, 2, 1 }, new[] { 0, 1, 1, 0 }, new[] { 0, 1, 0, 0 });
        yield return (new[] { 7 }, new[] { 3 }, new[] { 1 }, new[] { 2 }, new[] { 2 });
        yield return (new[] { 0 }, new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 });
        yield return (new[] { 1 }, new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 });
        yield return (new[] { 3 }, new[] { 4 }, new[] { 1 }, new[] { 0 }, new[] { 0 });
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void SelectAndScatterAddMatchesReference(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        int seed = 200;
        foreach (var dt in new[] { DType.Float32, DType.Float64, DType.Int32, DType.UInt8 })
            foreach (var (shape, win, strides, lo, hi) in SelectCases())
                foreach (var sel in new[] { Prims.Ge, Prims.Le })
                {
                    var p = new SelectAndScatterAddParams(sel, win, strides, lo, hi);
                    var operand = TestData.Tensor(seed++, shape, dt, specials: true);
                    var outShape = Windows.OutputShape("t", new Shape(shape), win, strides, lo, hi, Windows.Ones(shape.Length), Windows.Ones(shape.Length));
                    var source = TestData.Tensor(seed++, outShape.ToArray(), dt);
                    Check.AgainstReference(Prims.SelectAndScatterAdd, p, new[] { source, operand }, 1e-6, 1e-6, $"{isa} {p} {operand.Aval}");
                }
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void SelectAndGatherAddMatchesReference(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        int seed = 400;
        foreach (var dt in new[] { DType.Float32, DType.Float64, DType.Int32 })
            foreach (var (shape, p0) in Cases())
                foreach (var sel in new[] { Prims.Ge, Prims.Le })
                {
                    var p = new SelectAndGatherAddParams(sel, p0.WindowDimensions, p0.WindowStrides, p0.PaddingLow, p0.PaddingHigh, p0.BaseDilation, p0.WindowDilation);
                    var tangents = TestData.Tensor(seed++, shape, dt);
                    var operand = TestData.Tensor(seed++, shape, dt, specials: true);
                    Check.AgainstReference(Prims.SelectAndGatherAdd, p, new[] { tangents, operand }, context: $"{isa} {p} {operand.Aval}");
                }
    }

    [Fact]
    public void SelectionHandValues()
    {
        var operand = Tensor.FromArray(new[] { 1f, 3f, 2f, 4f });
        var source = Tensor.FromArray(new[] { 10f, 20f });
        var pad = new[] { (0, 0) };
        Assert.Equal(new[] { 0f, 10f, 0f, 20f }, Lax.SelectAndScatterAdd(source, operand, Prims.Ge, new[] { 2 }, new[] { 2 }, pad).ToArray<float>());
        Assert.Equal(new[] { 10f, 0f, 20f, 0f }, Lax.SelectAndScatterAdd(source, operand, Prims.Le, new[] { 2 }, new[] { 2 }, pad).ToArray<float>());
        // Overlapping windows add up; ties select the first position.
        var ov = Lax.SelectAndScatterAdd(Tensor.FromArray(new[] { 1f, 1f }), Tensor.FromArray(new[] { 1f, 3f, 2f }), Prims.Ge, new[] { 2 }, new[] { 1 }, pad);
        Assert.Equal(new[] { 0f, 2f, 0f }, ov.ToArray<float>());
        var tie = Lax.SelectAndScatterAdd(Tensor.FromArray(new[] { 5f }, 1), Tensor.FromArray(new[] { 2f, 2f }), Prims.Ge, new[] { 2 }, new[] { 2 }, pad);
        Assert.Equal(new[] { 5f, 0f }, tie.ToArray<float>());
        // NaN is selected (it is what max pooling returns).
        var nan = Lax.SelectAndScatterAdd(Tensor.FromArray(new[] { 5f }, 1), Tensor.FromArray(new[] { 2f, float.NaN, 9f }), Prims.Ge, new[] { 3 }, new[] { 1 }, pad);
        Assert.Equal(new[] { 0f, 5f, 0f }, nan.ToArray<float>());

        var tangents = Tensor.FromArray(new[] { 10f, 20f, 30f, 40f });
        Assert.Equal(new[] { 20f, 40f }, Lax.SelectAndGatherAdd(tangents, operand, Prims.Ge, new[] { 2 }, new[] { 2 }, pad).ToArray<float>());
        Assert.Equal(new[] { 10f, 30f }, Lax.SelectAndGatherAdd(tangents, operand, Prims.Le, new[] { 2 }, new[] { 2 }, pad).ToArray<float>());
        // A window of padding only gathers 0.
        Assert.Equal(new[] { 0f, 20f, 40f }, Lax.SelectAndGatherAdd(tangents, operand, Prims.Ge, new[] { 2 }, new[] { 2 }, new[] { (2, 0) }).ToArray<float>());
    }

    [Fact]
    public void BadWindowsThrowClearErrors()
    {
        var x = Tensor.Zeros(new Shape(4, 4));
        Check.Throws<ArgumentException>(() => Lax.ReduceWindowSum(x, new[] { 2 }), "reduce_window_sum", "window_dimensions", "(4, 4)");
        Check.Throws<ArgumentException>(() => Lax.ReduceWindowMax(x, new[] { 2, 2 }, new[] { -1, 1 }), "reduce_window_max", "window_strides", "positive");
        Check.Throws<ArgumentException>(() => Lax.ReduceWindowMax(x, new[] { 2, 2 }, new[] { 1 }), "reduce_window_max", "window_strides");
        Check.Throws<ArgumentException>(() => Lax.ReduceWindowMin(x, new[] { 0, 2 }), "reduce_window_min", "window_dimensions", "positive");
        Check.Throws<ArgumentException>(() => Lax.ReduceWindowSum(x, new[] { 2, 2 }, padding: new[] { (-1, 0), (0, 0) }), "reduce_window_sum", "padding", "non-negative");
        Check.Throws<ArgumentException>(() => Lax.ReduceWindowSum(x, new[] { 2, 2 }, padding: new[] { (0, 0) }), "reduce_window_sum", "padding");
        Check.Throws<ArgumentException>(() => Lax.ReduceWindowSum(x, new[] { 2, 2 }, baseDilation: new[] { 0, 1 }), "reduce_window_sum", "base_dilation");
        Check.Throws<ArgumentException>(() => Lax.ReduceWindowSum(x, new[] { 2, 2 }, windowDilation: new[] { 1, 1, 1 }), "reduce_window_sum", "window_dilation");
        Check.Throws<ArgumentException>(() => Lax.ReduceWindowSum(Tensor.Zeros(new Shape(2), DType.Bool), new[] { 1 }), "reduce_window_sum", "bool");
        Check.Throws<ArgumentException>(() => Prims.ReduceWindowSum.Bind(new ReduceParams(new[] { 0 }), x), "reduce_window_sum", "ReduceWindowParams");

        var pad = new[] { (0, 0), (0, 0) };
        var src = Tensor.Zeros(new Shape(2, 2));
        Check.Throws<ArgumentException>(() => Lax.SelectAndScatterAdd(Tensor.Zeros(new Shape(3, 2)), x, Prims.Ge, new[] { 2, 2 }, new[] { 2, 2 }, pad),
            "select_and_scatter_add", "source shape (3, 2)", "(2, 2)");
        Check.Throws<ArgumentException>(() => Lax.SelectAndScatterAdd(src, x, Prims.Add, new[] { 2, 2 }, new[] { 2, 2 }, pad), "select_and_scatter_add", "select_prim", "add");
        Check.Throws<ArgumentException>(() => Lax.SelectAndScatterAdd(Tensor.Zeros(new Shape(2, 2), DType.Float64), x, Prims.Ge, new[] { 2, 2 }, new[] { 2, 2 }, pad),
            "select_and_scatter_add", "float64", "float32");
        Check.Throws<ArgumentException>(() => Lax.SelectAndScatterAdd(src, x, Prims.Ge, new[] { 2 }, new[] { 2, 2 }, pad), "select_and_scatter_add", "window_dimensions");
        Check.Throws<ArgumentException>(() => Lax.SelectAndGatherAdd(Tensor.Zeros(new Shape(4, 3)), x, Prims.Ge, new[] { 2, 2 }, new[] { 2, 2 }, pad),
            "select_and_gather_add", "tangents shape (4, 3)", "(4, 4)");
        Check.Throws<ArgumentException>(() => Lax.SelectAndGatherAdd(x, x, Prims.Ge, new[] { 2, 2 }, new[] { 0, 2 }, pad), "select_and_gather_add", "window_strides");
        Check.Throws<ArgumentException>(() => Lax.SelectAndGatherAdd(x, x, Prims.Lt, new[] { 2, 2 }, new[] { 2, 2 }, pad), "select_and_gather_add", "select_prim");
    }

    [Fact]
    public void ParamsPrintLikeJaxprs()
    {
        Assert.Equal("window_dimensions=(1, 2) window_strides=(1, 2) padding=((0, 0), (1, 1)) base_dilation=(1, 1) window_dilation=(1, 1)",
            new ReduceWindowParams(new[] { 1, 2 }, new[] { 1, 2 }, new[] { 0, 1 }, new[] { 0, 1 }, new[] { 1, 1 }, new[] { 1, 1 }).ToString());
        Assert.Equal("select_prim=ge window_dimensions=(2,) window_strides=(2,) padding=((0, 0),)",
            new SelectAndScatterAddParams(Prims.Ge, new[] { 2 }, new[] { 2 }, new[] { 0 }, new[] { 0 }).ToString());
    }
}
