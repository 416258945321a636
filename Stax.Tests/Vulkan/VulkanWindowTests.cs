using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>reduce_window_*, select_and_scatter_add and select_and_gather_add on Vulkan against the reference.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanWindowTests
{
    static readonly Primitive[] ReduceWindows = Conformance.WindowTests.ReduceWindows;

    static ReduceWindowParams W(int[] dims, int[]? strides = null, int[]? lo = null, int[]? hi = null, int[]? baseDil = null, int[]? winDil = null)
        => Conformance.WindowTests.W(dims, strides, lo, hi, baseDil, winDil);

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

    [VulkanFact]
    public void ReduceWindowMatchesReference()
    {
        int seed = 0;
        foreach (var dt in new[] { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool })
            foreach (var (shape, p) in Cases())
                foreach (var prim in ReduceWindows)
                {
                    if (dt == DType.Bool && prim == Prims.ReduceWindowSum) continue;
                    var x = TestData.Tensor(seed++, shape, dt, specials: true);
                    double tol = prim == Prims.ReduceWindowSum && dt.IsFloat() ? VulkanCheck.Rtol(dt, 1e-6) : 0;
                    VulkanCheck.AgainstReference(prim, p, new[] { x }, tol, tol, $"{prim.Name} {x.Aval} {p}");
                }
    }

    [VulkanFact]
    public void LargeWindowsMatchReferenceAndAreDeterministic()
    {
        var x = TestData.Tensor(41, new[] { 1, 260, 260, 1 });
        var p = W(new[] { 1, 3, 3, 1 }, new[] { 1, 1, 1, 1 }, new[] { 0, 1, 1, 0 }, new[] { 0, 1, 1, 0 });
        VulkanCheck.AgainstReference(Prims.ReduceWindowMax, p, new[] { x });
        VulkanCheck.AgainstReference(Prims.ReduceWindowSum, p, new[] { x }, 1e-5, 1e-5);
        var pool = new SelectAndScatterAddParams(Prims.Ge, new[] { 1, 2, 2, 1 }, new[] { 1, 2, 2, 1 }, new int[4], new int[4]);
        var src = TestData.Tensor(42, new[] { 1, 130, 130, 1 });
        VulkanCheck.AgainstReference(Prims.SelectAndScatterAdd, pool, new[] { src, x }, 1e-6, 1e-6);
        var v = VulkanCheck.Put(src, x);
        Assert.Equal(Prims.SelectAndScatterAdd.Bind1(pool, v[0], v[1]).ToBytes(), Prims.SelectAndScatterAdd.Bind1(pool, v[0], v[1]).ToBytes());
        // Overlapping windows (3x3 stride 2) in NHWC: every operand element gathers several windows.
        var ov = new SelectAndScatterAddParams(Prims.Ge, new[] { 1, 3, 3, 1 }, new[] { 1, 2, 2, 1 }, new[] { 0, 1, 1, 0 }, new[] { 0, 1, 1, 0 });
        var op = TestData.Tensor(43, new[] { 2, 9, 11, 3 });
        var outShape = Windows.OutputShape("t", op.Shape, ov.WindowDimensions, ov.WindowStrides, ov.PaddingLow, ov.PaddingHigh, Windows.Ones(4), Windows.Ones(4));
        VulkanCheck.AgainstReference(Prims.SelectAndScatterAdd, ov, new[] { TestData.Tensor(44, outShape.ToArray()), op }, 1e-6, 1e-6);
    }

    static IEnumerable<(int[] Shape, int[] Win, int[] Strides, int[] Lo, int[] Hi)> SelectCases()
    {
        yield return (new[] { 1, 4, 4, 1 }, new[] { 1, 2, 2, 1 }, new[] { 1, 2, 2, 1 }, new int[4], new int[4]);
        yield return (new[] { 2, 5, 6, 3 }, new[] { 1, 3, 3, 1 }, new[] { 1, 1, 2, 1 }, new[] { 0, 1, 1, 0 }, new[] { 0, 1, 0, 0 });
        yield return (new[] { 7 }, new[] { 3 }, new[] { 1 }, new[] { 2 }, new[] { 2 });
        yield return (new[] { 0 }, new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 });
        yield return (new[] { 1 }, new[] { 1 }, new[] { 1 }, new[] { 0 }, new[] { 0 });
        yield return (new[] { 3 }, new[] { 4 }, new[] { 1 }, new[] { 0 }, new[] { 0 });
    }

    [VulkanFact]
    public void SelectAndScatterAddMatchesReference()
    {
        int seed = 200;
        foreach (var dt in new[] { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt8 })
            foreach (var (shape, win, strides, lo, hi) in SelectCases())
                foreach (var sel in new[] { Prims.Ge, Prims.Le })
                {
                    var p = new SelectAndScatterAddParams(sel, win, strides, lo, hi);
                    var operand = TestData.Tensor(seed++, shape, dt, specials: true);
                    var outShape = Windows.OutputShape("t", new Shape(shape), win, strides, lo, hi, Windows.Ones(shape.Length), Windows.Ones(shape.Length));
                    var source = TestData.Tensor(seed++, outShape.ToArray(), dt);
                    double tol = dt.IsFloat() ? VulkanCheck.Rtol(dt, 1e-6) : 0;
                    VulkanCheck.AgainstReference(Prims.SelectAndScatterAdd, p, new[] { source, operand }, tol, tol, $"{p} {operand.Aval}");
                }
    }

    [VulkanFact]
    public void SelectAndGatherAddMatchesReference()
    {
        int seed = 400;
        foreach (var dt in new[] { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32 })
            foreach (var (shape, p0) in Cases())
                foreach (var sel in new[] { Prims.Ge, Prims.Le })
                {
                    var p = new SelectAndGatherAddParams(sel, p0.WindowDimensions, p0.WindowStrides, p0.PaddingLow, p0.PaddingHigh, p0.BaseDilation, p0.WindowDilation);
                    var tangents = TestData.Tensor(seed++, shape, dt);
                    var operand = TestData.Tensor(seed++, shape, dt, specials: true);
                    VulkanCheck.AgainstReference(Prims.SelectAndGatherAdd, p, new[] { tangents, operand }, context: $"{p} {operand.Aval}");
                }
    }

    [VulkanFact]
    public void SelectionTiesAndNaN()
    {
        var pad = new[] { (0, 0) };
        Tensor P(params float[] v) => VulkanCheck.Put(Tensor.FromArray(v, v.Length))[0];
        var ov = Lax.SelectAndScatterAdd(P(1f, 1f), P(1f, 3f, 2f), Prims.Ge, new[] { 2 }, new[] { 1 }, pad);
        Assert.Equal(new[] { 0f, 2f, 0f }, ov.ToArray<float>());
        Assert.Equal(new[] { 5f, 0f }, Lax.SelectAndScatterAdd(P(5f), P(2f, 2f), Prims.Ge, new[] { 2 }, new[] { 2 }, pad).ToArray<float>());
        Assert.Equal(new[] { 0f, 5f, 0f }, Lax.SelectAndScatterAdd(P(5f), P(2f, float.NaN, 9f), Prims.Ge, new[] { 3 }, new[] { 1 }, pad).ToArray<float>());
        Assert.Equal(new[] { 0f, 20f, 40f }, Lax.SelectAndGatherAdd(P(10f, 20f, 30f, 40f), P(1f, 3f, 2f, 4f), Prims.Ge, new[] { 2 }, new[] { 2 }, new[] { (2, 0) }).ToArray<float>());
    }
}
