using Stax.Tests.Infrastructure;
using Stax.Tests.Vulkan;

namespace Stax.Tests.Conformance;

/// <summary>reduce_window_*, select_and_scatter_add and select_and_gather_add against the reference on every backend.</summary>
public class WindowTests
{
    internal static readonly Primitive[] ReduceWindows = { Prims.ReduceWindowSum, Prims.ReduceWindowMax, Prims.ReduceWindowMin };

    internal static ReduceWindowParams W(int[] dims, int[]? strides = null, int[]? lo = null, int[]? hi = null, int[]? baseDil = null, int[]? winDil = null)
    {
        int r = dims.Length;
        int[] Ones() => Enumerable.Repeat(1, r).ToArray();
        return new ReduceWindowParams(dims, strides ?? Ones(), lo ?? new int[r], hi ?? new int[r], baseDil ?? Ones(), winDil ?? Ones());
    }

    /// <summary>(operand shape, window) cases: pooling, padding, both dilations, 0-size operands and outputs, ranks 0 to 5.</summary>
    static IEnumerable<(int[] Shape, ReduceWindowParams P)> Cases()
    {
        yield return (new[] { 1, 4, 4, 1 }, W(new[] { 1, 2, 2, 1 }, new[] { 1, 2, 2, 1 }));
        yield return (new[] { 2, 5, 7, 3 }, W(new[] { 1, 3, 3, 1 }, new[] { 1, 2, 2, 1 }, new[] { 0, 1, 1, 0 }, new[] { 0, 1, 1, 0 }));
        yield return (new[] { 2, 3, 5, 7, 3 }, W(new[] { 1, 2, 2, 2, 1 }, new[] { 1, 1, 2, 2, 1 }, new[] { 0, 0, 1, 0, 0 }, new[] { 0, 1, 0, 1, 0 }));
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
    public void ReduceWindowMatchesReference(Isa isa) => ReduceWindowMatchesReferenceOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void ReduceWindowMatchesReferenceOnVulkan() => ReduceWindowMatchesReferenceOn(Target.Vulkan);

    /// <summary>Tolerance of a windowed float sum: the CPU sums 16-bit floats in float32 and rounds
    /// once (2e-2 covers bfloat16); Vulkan's allowance is one 16-bit ulp plus the float32 work.</summary>
    static double SumTol(Target target, DType dt) => !dt.IsFloat() || dt == DType.Float64 ? 0
        : target.IsVulkan ? VulkanCheck.Rtol(dt, 1e-6) : dt == DType.Float32 ? 1e-6 : 2e-2;

    static void ReduceWindowMatchesReferenceOn(Target target)
    {
        using var _ = target.Use();
        int seed = 0;
        foreach (var dt in target.Only(DType.Float32, DType.Float64, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool))
            foreach (var (shape, p) in Cases())
                foreach (var prim in ReduceWindows)
                {
                    if (dt == DType.Bool && prim == Prims.ReduceWindowSum) continue;
                    var x = TestData.Tensor(seed++, shape, dt, specials: true);
                    double tol = prim == Prims.ReduceWindowSum ? SumTol(target, dt) : 0;
                    target.AgainstReference(prim, p, new[] { x }, tol, tol, $"{target} {prim.Name} {x.Aval} {p}");
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
    public void LargeWindowsMatchReferenceAndAreThreadIndependent(Isa isa) => LargeWindowsOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void LargeWindowsMatchReferenceAndAreDeterministicOnVulkan() => LargeWindowsOn(Target.Vulkan);

    /// <summary>Large pooling windows match the reference, and two runs (on one and two CPU
    /// threads; the count does not matter on Vulkan) give the same bits.</summary>
    static void LargeWindowsOn(Target target)
    {
        using var _ = target.Use();
        var x = TestData.Tensor(41, new[] { 1, 260, 260, 1 });
        var p = W(new[] { 1, 3, 3, 1 }, new[] { 1, 1, 1, 1 }, new[] { 0, 1, 1, 0 }, new[] { 0, 1, 1, 0 });
        target.AgainstReference(Prims.ReduceWindowMax, p, new[] { x });
        target.AgainstReference(Prims.ReduceWindowSum, p, new[] { x }, 1e-5, 1e-5);
        byte[] Run(int threads) { using (Config.UseThreads(threads)) return target.Run(Prims.ReduceWindowSum, p, x)[0].ToBytes(); }
        Assert.True(Run(1).SequenceEqual(Run(2)));
        var pool = new SelectAndScatterAddParams(Prims.Ge, new[] { 1, 2, 2, 1 }, new[] { 1, 2, 2, 1 }, new int[4], new int[4]);
        var src = TestData.Tensor(42, new[] { 1, 130, 130, 1 });
        target.AgainstReference(Prims.SelectAndScatterAdd, pool, new[] { src, x }, 1e-6, 1e-6);
        byte[] Scatter(int threads) { using (Config.UseThreads(threads)) return target.Run(Prims.SelectAndScatterAdd, pool, src, x)[0].ToBytes(); }
        Assert.True(Scatter(1).SequenceEqual(Scatter(2)));
        // Overlapping windows (3x3 stride 2) in NHWC: every operand element gathers several windows.
        var ov = new SelectAndScatterAddParams(Prims.Ge, new[] { 1, 3, 3, 1 }, new[] { 1, 2, 2, 1 }, new[] { 0, 1, 1, 0 }, new[] { 0, 1, 1, 0 });
        var op = TestData.Tensor(43, new[] { 2, 9, 11, 3 });
        var outShape = Windows.OutputShape("t", op.Shape, ov.WindowDimensions, ov.WindowStrides, ov.PaddingLow, ov.PaddingHigh, Windows.Ones(4), Windows.Ones(4));
        target.AgainstReference(Prims.SelectAndScatterAdd, ov, new[] { TestData.Tensor(44, outShape.ToArray()), op }, 1e-6, 1e-6);
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
    public void SelectAndScatterAddMatchesReference(Isa isa) => SelectAndScatterAddOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void SelectAndScatterAddMatchesReferenceOnVulkan() => SelectAndScatterAddOn(Target.Vulkan);

    static void SelectAndScatterAddOn(Target target)
    {
        using var _ = target.Use();
        int seed = 200;
        foreach (var dt in target.Only(DType.Float32, DType.Float64, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt8))
            foreach (var (shape, win, strides, lo, hi) in SelectCases())
                foreach (var sel in new[] { Prims.Ge, Prims.Le })
                {
                    var p = new SelectAndScatterAddParams(sel, win, strides, lo, hi);
                    var operand = TestData.Tensor(seed++, shape, dt, specials: true);
                    var outShape = Windows.OutputShape("t", new Shape(shape), win, strides, lo, hi, Windows.Ones(shape.Length), Windows.Ones(shape.Length));
                    var source = TestData.Tensor(seed++, outShape.ToArray(), dt);
                    double tol = dt.IsFloat() ? VulkanCheck.Rtol(dt, 1e-6) : 0;
                    target.AgainstReference(Prims.SelectAndScatterAdd, p, new[] { source, operand }, tol, tol, $"{target} {p} {operand.Aval}");
                }
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void SelectAndGatherAddMatchesReference(Isa isa) => SelectAndGatherAddOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void SelectAndGatherAddMatchesReferenceOnVulkan() => SelectAndGatherAddOn(Target.Vulkan);

    static void SelectAndGatherAddOn(Target target)
    {
        using var _ = target.Use();
        int seed = 400;
        foreach (var dt in target.Only(DType.Float32, DType.Float64, DType.Float16, DType.BFloat16, DType.Int32))
            foreach (var (shape, p0) in Cases())
                foreach (var sel in new[] { Prims.Ge, Prims.Le })
                {
                    var p = new SelectAndGatherAddParams(sel, p0.WindowDimensions, p0.WindowStrides, p0.PaddingLow, p0.PaddingHigh, p0.BaseDilation, p0.WindowDilation);
                    var tangents = TestData.Tensor(seed++, shape, dt);
                    var operand = TestData.Tensor(seed++, shape, dt, specials: true);
                    target.AgainstReference(Prims.SelectAndGatherAdd, p, new[] { tangents, operand }, context: $"{target} {p} {operand.Aval}");
                }
    }

    [Fact]
    public void SelectionHandValues() => SelectionHandValuesOn(Target.Cpu(Config.Isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void SelectionHandValuesOnVulkan() => SelectionHandValuesOn(Target.Vulkan);

    static void SelectionHandValuesOn(Target target)
    {
        Tensor F(params float[] v) => target.Put(Tensor.FromArray(v, v.Length));
        var operand = F(1f, 3f, 2f, 4f);
        var source = F(10f, 20f);
        var pad = new[] { (0, 0) };
        Assert.Equal(new[] { 0f, 10f, 0f, 20f }, Lax.SelectAndScatterAdd(source, operand, Prims.Ge, new[] { 2 }, new[] { 2 }, pad).ToArray<float>());
        Assert.Equal(new[] { 10f, 0f, 20f, 0f }, Lax.SelectAndScatterAdd(source, operand, Prims.Le, new[] { 2 }, new[] { 2 }, pad).ToArray<float>());
        // Overlapping windows add up; ties select the first position.
        var ov = Lax.SelectAndScatterAdd(F(1f, 1f), F(1f, 3f, 2f), Prims.Ge, new[] { 2 }, new[] { 1 }, pad);
        Assert.Equal(new[] { 0f, 2f, 0f }, ov.ToArray<float>());
        var tie = Lax.SelectAndScatterAdd(F(5f), F(2f, 2f), Prims.Ge, new[] { 2 }, new[] { 2 }, pad);
        Assert.Equal(new[] { 5f, 0f }, tie.ToArray<float>());
        // NaN is selected (it is what max pooling returns).
        var nan = Lax.SelectAndScatterAdd(F(5f), F(2f, float.NaN, 9f), Prims.Ge, new[] { 3 }, new[] { 1 }, pad);
        Assert.Equal(new[] { 0f, 5f, 0f }, nan.ToArray<float>());

        var tangents = F(10f, 20f, 30f, 40f);
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
