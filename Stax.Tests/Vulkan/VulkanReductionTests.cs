using Stax.Tests.Infrastructure;

namespace Stax.Tests.Vulkan;

/// <summary>Reductions, arg reductions and scans on Vulkan against the reference, with the CPU
/// suite's shapes and tolerances, for every dtype Vulkan supports.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanReductionTests
{
    // The CPU suite's primitives, shapes and axis subsets.
    static readonly Primitive[] Reducers = Conformance.ReductionTests.Reducers;
    static readonly Primitive[] Scans = Conformance.ReductionTests.Scans;
    static IEnumerable<int[]> AxisSubsets(int rank) => Conformance.ReductionTests.AxisSubsets(rank);
    static readonly int[][] Shapes = Conformance.ReductionTests.Shapes;

    static double SumTol(Tensor x, DType t)
    {
        double mag = x.ToDoubleArray().Where(double.IsFinite).Sum(Math.Abs);
        return t.IsFloat() ? 2e-6 * mag + 1e-6 : 0;
    }

    static void CheckReduce(Primitive p, Tensor x, int[] axes, string ctx)
    {
        var dt = x.DType;
        double rtol = p == Prims.ReduceProd && dt == DType.Float32 ? 1e-5
            : VulkanCheck.Half16.Contains(dt) && (p == Prims.ReduceProd || p == Prims.ReduceSum) ? VulkanCheck.Rtol(dt, 0) : 0;
        double atol = p == Prims.ReduceSum && dt.IsFloat() ? SumTol(x, dt) : 0;
        VulkanCheck.AgainstReference(p, new ReduceParams(axes), new[] { x }, rtol, atol, $"{ctx} {p.Name} {x.Aval} axes {Shape.Format(axes)}");
    }

    [VulkanFact]
    public void Float32AllShapesAllAxes()
    {
        int seed = 0;
        foreach (var shape in Shapes)
            foreach (var axes in AxisSubsets(shape.Length))
                foreach (var p in Reducers)
                {
                    var x = p == Prims.ReduceProd ? TestData.Tensor(seed++, shape, DType.Float32, 0.5, 1.5) : TestData.Tensor(seed++, shape);
                    CheckReduce(p, x, axes, "f32");
                }
    }

    /// <summary>The float32 table in float16 and bfloat16 (computed in float32 and rounded, as on the CPU).</summary>
    [VulkanFact]
    public void SixteenBitFloatsAllShapesAllAxes()
    {
        foreach (var dt in VulkanCheck.Half16)
        {
            int seed = 0;
            foreach (var shape in Shapes)
                foreach (var axes in AxisSubsets(shape.Length))
                    foreach (var p in Reducers)
                    {
                        var x = p == Prims.ReduceProd ? TestData.Tensor(seed++, shape, dt, 0.5, 1.5) : TestData.Tensor(seed++, shape, dt, specials: true);
                        CheckReduce(p, x, axes, dt.Name());
                        if (p == Prims.ReduceMax || p == Prims.ReduceMin)
                            VulkanCheck.AgainstCpu(p, new ReduceParams(axes), new[] { x }, context: $"{p.Name} {x.Aval} axes {Shape.Format(axes)}");
                    }
        }
    }

    /// <summary>Workgroup reductions combined with subgroup arithmetic and with the shared-memory
    /// tree agree with each other and the reference, and each is deterministic.</summary>
    [VulkanFact]
    public void SubgroupAndTreeCombiningAgree()
    {
        var vk = VulkanCheck.Vk;
        if (vk.Capabilities.DeviceName.Contains("llvmpipe", StringComparison.OrdinalIgnoreCase))
            Assert.True(vk.Capabilities.SubgroupArithmetic, "lavapipe reports subgroup arithmetic, so CI runs both paths");
        bool saved = Stax.Vulkan.VulkanBackend.UseSubgroupReduce;
        try
        {
            int seed = 700;
            // r > 256 with few outputs: one workgroup per output (MODE 0).
            foreach (var (shape, axes) in new[] { (new[] { 70001 }, new[] { 0 }), (new[] { 3, 5000 }, new[] { 1 }), (new[] { 2, 700 }, new[] { 1 }), (new[] { 600, 3 }, new[] { 0 }), (new[] { 257 }, new[] { 0 }) })
                foreach (var dt in new[] { DType.Float32, DType.Int32, DType.UInt32, DType.UInt8, DType.Float16 })
                    foreach (var p in Reducers)
                    {
                        if (dt == DType.Float16 && p == Prims.ReduceSum) continue;   // overflows float16
                        var x = p == Prims.ReduceProd && dt.IsFloat() ? TestData.Tensor(seed++, shape, dt, 0.999, 1.001) : TestData.Tensor(seed++, shape, dt, specials: p != Prims.ReduceProd);
                        var v = VulkanCheck.Put(x)[0];
                        var results = new List<Tensor>();
                        foreach (bool sg in new[] { true, false })
                        {
                            Stax.Vulkan.VulkanBackend.UseSubgroupReduce = sg;
                            if (p == Prims.ReduceProd && dt == DType.Float32)   // up to 70001 float32 roundings
                                VulkanCheck.AgainstReference(p, new ReduceParams(axes), new[] { x }, 1e-4, 0, $"subgroups={sg} {p.Name} {x.Aval}");
                            else CheckReduce(p, x, axes, $"subgroups={sg}");
                            var a = p.Bind1(new ReduceParams(axes), v);
                            Assert.Equal(a.ToBytes(), p.Bind1(new ReduceParams(axes), v).ToBytes());
                            results.Add(a);
                        }
                        var ctx = $"{p.Name} {x.Aval}: subgroup vs tree";
                        if (!dt.IsFloat() || p == Prims.ReduceMax || p == Prims.ReduceMin) Assert.True(results[0].ToBytes().SequenceEqual(results[1].ToBytes()), ctx);
                        else Check.Close(results[1].ToDoubleArray(), results[0].ToDoubleArray(), dt == DType.Float32 ? 1e-5 : 2e-3, SumTol(x, DType.Float32), ctx);
                    }
        }
        finally { Stax.Vulkan.VulkanBackend.UseSubgroupReduce = saved; }
    }

    [VulkanFact]
    public void AllDTypes()
    {
        int seed = 100;
        foreach (var dt in new[] { DType.Int32, DType.UInt32, DType.UInt8, DType.Bool })
            foreach (var shape in new[] { new int[0], new[] { 0 }, new[] { 37 }, new[] { 4, 33 }, new[] { 3, 0 }, new[] { 5, 17, 19 } })
                foreach (var axes in AxisSubsets(shape.Length))
                    foreach (var p in Reducers)
                    {
                        if (dt == DType.Bool && (p == Prims.ReduceSum || p == Prims.ReduceProd)) continue;
                        CheckReduce(p, TestData.Tensor(seed++, shape, dt, specials: true), axes, dt.Name());
                    }
    }

    [VulkanFact]
    public void NanAndInfinityPropagate()
    {
        foreach (var shape in new[] { new[] { 70 }, new[] { 9, 70 }, new[] { 70, 9 }, new[] { 2, 700 } })
            foreach (var axes in AxisSubsets(shape.Length))
                foreach (var p in Reducers)
                    if (p != Prims.ReduceProd)
                        CheckReduce(p, TestData.Tensor(7, shape, DType.Float32, specials: true), axes, "specials");
        foreach (int pos in new[] { 5, 40, 99, 999 })
        {
            var v = new float[1000];
            v[pos] = float.NaN;
            v[3] = float.PositiveInfinity;
            var x = VulkanCheck.Put(Tensor.FromArray(v))[0];
            Assert.True(float.IsNaN(Lax.ReduceMax(x, 0).Item<float>()), $"max with NaN at {pos}");
            Assert.True(float.IsNaN(Lax.ReduceMin(x, 0).Item<float>()), $"min with NaN at {pos}");
            Assert.True(float.IsNaN(Lax.ReduceSum(x, 0).Item<float>()), $"sum with NaN at {pos}");
            Assert.True(float.IsNaN(Lax.ReduceProd(x, 0).Item<float>()), $"prod with NaN at {pos}");
        }
    }

    [VulkanFact]
    public void EmptyReductionsGiveTheIdentity()
    {
        var e = new Shape(2, 0);
        Tensor Z(DType t) => VulkanCheck.Put(Tensor.Zeros(e, t))[0];
        Assert.Equal(new float[] { 0, 0 }, Lax.ReduceSum(Z(DType.Float32), 1).ToArray<float>());
        Assert.Equal(new float[] { 1, 1 }, Lax.ReduceProd(Z(DType.Float32), 1).ToArray<float>());
        Assert.Equal(new[] { float.NegativeInfinity, float.NegativeInfinity }, Lax.ReduceMax(Z(DType.Float32), 1).ToArray<float>());
        Assert.Equal(new[] { int.MaxValue, int.MaxValue }, Lax.ReduceMin(Z(DType.Int32), 1).ToArray<int>());
        Assert.Equal(new[] { uint.MaxValue, uint.MaxValue }, Lax.ReduceMin(Z(DType.UInt32), 1).ToArray<uint>());
        Assert.Equal(new bool[] { false, false }, Lax.ReduceMax(Z(DType.Bool), 1).ToArray<bool>());
        Assert.Equal(new bool[] { true, true }, Lax.ReduceMin(Z(DType.Bool), 1).ToArray<bool>());
        Assert.Equal(new byte[] { 255, 255 }, Lax.ReduceMin(Z(DType.UInt8), 1).ToArray<byte>());
    }

    [VulkanFact]
    public void LargeContiguousAndStridedAndAccurate()
    {
        var big = TestData.Tensor(11, TestData.Large);
        foreach (var p in new[] { Prims.ReduceSum, Prims.ReduceMax, Prims.ReduceMin })
            CheckReduce(p, big, new[] { 0 }, "large");
        var m = TestData.Tensor(12, new[] { 301, 257 });
        foreach (var axes in new[] { new[] { 0 }, new[] { 1 }, new[] { 0, 1 } })
            foreach (var p in new[] { Prims.ReduceSum, Prims.ReduceMax })
                CheckReduce(p, m, axes, "large 2-D");
        var i = TestData.Tensor(14, new[] { 3, 30000 }, DType.Int32);
        CheckReduce(Prims.ReduceSum, i, new[] { 0 }, "large i32");
        CheckReduce(Prims.ReduceMax, i, new[] { 1 }, "large i32");
        // 1M copies of 0.1f: compensated accumulation stays within 1e-6 (a naive loop drifts by ~1%).
        const int n = 1 << 20;
        double exact = n * (double)0.1f;
        var v = VulkanCheck.Put(Tensor.FromArray(Enumerable.Repeat(0.1f, n).ToArray()))[0];
        Assert.InRange(Lax.ReduceSum(v, 0).Item<float>(), exact * (1 - 1e-6), exact * (1 + 1e-6));
        Assert.InRange(Lax.ReduceSum(Lax.Reshape(v, new Shape(n / 4, 4)), 0).ToArray<float>()[3], exact / 4 * (1 - 1e-6), exact / 4 * (1 + 1e-6));
    }

    [VulkanFact]
    public void ResultsAreDeterministic()
    {
        var xs = VulkanCheck.Put(TestData.Tensor(21, new[] { 200003 }), TestData.Tensor(24, new[] { 40, 3000 }));
        var cases = new Func<Tensor>[]
        {
            () => Lax.ReduceSum(xs[0], 0), () => Lax.ReduceSum(xs[1], 0), () => Lax.ReduceSum(xs[1], 1), () => Lax.Cumsum(xs[1], 1),
            () => Lax.Argmax(xs[1], 0), () => Lax.ReduceMax(xs[1], 0, 1),
        };
        foreach (var c in cases) Assert.Equal(c().ToBytes(), c().ToBytes());
    }

    [VulkanFact]
    public void ArgReductionsMatchReference()
    {
        int seed = 300;
        foreach (var dt in new[] { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool })
            foreach (var shape in new[] { new[] { 1 }, new[] { 7 }, new[] { 3, 5 }, new[] { 2, 0, 3 }, new[] { 4, 6, 5 }, new[] { 2, 600 } })
                for (int axis = 0; axis < shape.Length; axis++)
                {
                    if (shape[axis] == 0) continue;
                    var x = TestData.Tensor(seed++, shape, dt, specials: true);
                    foreach (var p in new[] { Prims.Argmax, Prims.Argmin })
                        foreach (var idt in new[] { DType.Int32, DType.UInt32 })
                            VulkanCheck.AgainstReference(p, new ArgReduceParams(new[] { axis }, idt), new[] { x }, context: $"{p.Name} {x.Aval} axis {axis}");
                }
        VulkanCheck.AgainstReference(Prims.Argmax, new ArgReduceParams(new[] { 0 }, DType.Int32), new[] { TestData.Tensor(301, TestData.Large) });
        VulkanCheck.AgainstReference(Prims.Argmin, new ArgReduceParams(new[] { 0 }, DType.Int32), new[] { TestData.Tensor(302, TestData.Large, specials: true) });
    }

    [VulkanFact]
    public void ArgReductionTiesAndNaN()
    {
        Tensor P(Tensor t) => VulkanCheck.Put(t)[0];
        var x = P(Tensor.FromArray(new[] { 1f, 3f, 3f, 0f, 0f }));
        Assert.Equal(1, Lax.Argmax(x, 0).Item<int>());
        Assert.Equal(3, Lax.Argmin(x, 0).Item<int>());
        var n = P(Tensor.FromArray(new[] { 1f, float.NaN, 5f, float.NaN, -1f }));
        Assert.Equal(1, Lax.Argmax(n, 0).Item<int>());
        Assert.Equal(1, Lax.Argmin(n, 0).Item<int>());
        var ties = new float[1000];
        ties[700] = 2; ties[300] = 2; ties[900] = float.NaN; ties[950] = float.NaN;
        Assert.Equal(900, Lax.Argmax(P(Tensor.FromArray(ties)), 0).Item<int>());
        ties[900] = 0; ties[950] = 0;
        Assert.Equal(300, Lax.Argmax(P(Tensor.FromArray(ties)), 0).Item<int>());
        Assert.Equal(0, Lax.Argmin(P(Tensor.FromArray(ties)), 0).Item<int>());
    }

    [VulkanFact]
    public void CumulativeMatchesReference()
    {
        int seed = 500;
        foreach (var dt in new[] { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool })
            foreach (var shape in new[] { new[] { 0 }, new[] { 1 }, new[] { 7 }, new[] { 3, 5 }, new[] { 2, 0, 3 }, new[] { 4, 6, 35 } })
                for (int axis = 0; axis < shape.Length; axis++)
                    foreach (var p in Scans)
                        foreach (var reverse in new[] { false, true })
                        {
                            if (dt == DType.Bool && (p == Prims.Cumsum || p == Prims.Cumprod)) continue;
                            var x = p == Prims.Cumprod && dt.IsFloat() ? TestData.Tensor(seed++, shape, dt, 0.5, 1.5) : TestData.Tensor(seed++, shape, dt, specials: true);
                            double tol = !dt.IsFloat() || p == Prims.Cummax || p == Prims.Cummin ? 0 : VulkanCheck.Rtol(dt, 1e-5);
                            VulkanCheck.AgainstReference(p, new CumulativeParams(axis, reverse), new[] { x }, tol, tol * 10,
                                $"{p.Name} {x.Aval} axis {axis} reverse {reverse}");
                        }
        VulkanCheck.AgainstReference(Prims.Cumsum, new CumulativeParams(0, true), new[] { TestData.Tensor(501, TestData.Large, DType.Int32) });
        VulkanCheck.AgainstReference(Prims.Cummax, new CumulativeParams(0), new[] { TestData.Tensor(502, TestData.Large, specials: true) });
        // Lines longer than one scan block (4096), strided: block scans, carries, carry application.
        foreach (var p in Scans)
            foreach (var reverse in new[] { false, true })
            {
                var x = p == Prims.Cumprod ? TestData.Tensor(503, new[] { 9000, 3 }, DType.Float32, 0.999, 1.001) : TestData.Tensor(503, new[] { 9000, 3 });
                VulkanCheck.AgainstReference(p, new CumulativeParams(0, reverse), new[] { x }, 1e-5, 1e-4, $"long {p.Name} reverse {reverse}");
            }
    }
}
