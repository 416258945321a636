using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;
using Stax.Tests.Vulkan;

namespace Stax.Tests.Conformance;

/// <summary>Reductions, arg reductions and scans against the reference on every backend.</summary>
public class ReductionTests
{
    internal static readonly Primitive[] Reducers = { Prims.ReduceSum, Prims.ReduceMax, Prims.ReduceMin, Prims.ReduceProd };
    /// <summary>Every dtype; each backend runs those it supports.</summary>
    static readonly DType[] EveryDType = { DType.Float32, DType.Float64, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool };
    internal static readonly Primitive[] Scans = { Prims.Cumsum, Prims.Cumprod, Prims.Cummax, Prims.Cummin };

    /// <summary>Every subset of the axes of a shape (including none and all).</summary>
    internal static IEnumerable<int[]> AxisSubsets(int rank)
    {
        for (int mask = 0; mask < 1 << rank; mask++)
            yield return Enumerable.Range(0, rank).Where(d => (mask >> d & 1) != 0).ToArray();
    }

    internal static readonly int[][] Shapes =
    {
        new int[0], new[] { 0 }, new[] { 1 }, new[] { 7 }, new[] { 67 }, new[] { 3, 5 }, new[] { 4, 33 }, new[] { 2, 0, 3 },
        new[] { 3, 1, 5 }, new[] { 2, 3, 4, 5 }, new[] { 5, 17, 19 },
    };

    /// <summary>Sum tolerance from the magnitudes summed: float32 rounding is relative to Σ|x|, not
    /// to the result. Vulkan sums 16-bit floats in float32 too and its final rounding is covered by
    /// the relative tolerance of <see cref="CheckReduce"/>.</summary>
    static double SumTol(Target target, Tensor x, DType t)
    {
        double mag = x.ToDoubleArray().Where(double.IsFinite).Sum(Math.Abs);
        if (target.IsVulkan) return 2e-6 * mag + 1e-6;
        return t switch
        {
            DType.Float32 => 2e-6 * mag + 1e-6,
            DType.Float16 => 2e-3 * mag + 1e-3,
            DType.BFloat16 => 1e-2 * mag + 1e-2,
            _ => 1e-12 * mag,
        };
    }

    static void CheckReduce(Target target, Primitive p, Tensor x, int[] axes, string ctx)
    {
        var dt = x.DType;
        bool half = VulkanCheck.Half16.Contains(dt);
        double rtol = p == Prims.ReduceProd ? (dt == DType.Float32 ? 1e-5 : dt == DType.Float64 ? 1e-12 : half ? (target.IsVulkan ? VulkanCheck.Rtol(dt, 0) : 2e-2) : 0)
            : p == Prims.ReduceSum && half && target.IsVulkan ? VulkanCheck.Rtol(dt, 0) : 0;
        double atol = p == Prims.ReduceSum && dt.IsFloat() ? SumTol(target, x, dt) : 0;
        target.AgainstReference(p, new ReduceParams(axes), new[] { x }, rtol, atol, $"{target} {ctx} {p.Name} {x.Aval} axes {Shape.Format(axes)}");
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void Float32AllShapesAllAxes(Isa isa) => FloatsAllShapesAllAxesOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void FloatsAllShapesAllAxesOnVulkan() => FloatsAllShapesAllAxesOn(Target.Vulkan);

    /// <summary>Every shape and axis subset in float32 and, on Vulkan, float16 and bfloat16 (the CPU's
    /// 16-bit reductions are checked in AllDTypes).</summary>
    static void FloatsAllShapesAllAxesOn(Target target)
    {
        using var _ = target.Use();
        foreach (var dt in target.IsVulkan ? VulkanCheck.Floats : new[] { DType.Float32 })
        {
            int seed = 0;
            foreach (var shape in Shapes)
                foreach (var axes in AxisSubsets(shape.Length))
                    foreach (var p in Reducers)
                    {
                        var x = p == Prims.ReduceProd ? TestData.Tensor(seed++, shape, dt, 0.5, 1.5) : TestData.Tensor(seed++, shape, dt, specials: dt != DType.Float32);
                        CheckReduce(target, p, x, axes, dt.Name());
                        if (p == Prims.ReduceMax || p == Prims.ReduceMin)
                            target.AgainstCpuIfHalfOnVulkan(p, new ReduceParams(axes), new[] { x }, dt, $"{p.Name} {x.Aval} axes {Shape.Format(axes)}");
                    }
        }
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void AllDTypes(Isa isa) => AllDTypesOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void AllDTypesOnVulkan() => AllDTypesOn(Target.Vulkan);

    static void AllDTypesOn(Target target)
    {
        using var _ = target.Use();
        int seed = 100;
        foreach (var dt in target.Only(DType.Float64, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool))
            foreach (var shape in new[] { new int[0], new[] { 0 }, new[] { 37 }, new[] { 4, 33 }, new[] { 3, 0 }, new[] { 5, 17, 19 } })
                foreach (var axes in AxisSubsets(shape.Length))
                    foreach (var p in Reducers)
                    {
                        if (dt == DType.Bool && (p == Prims.ReduceSum || p == Prims.ReduceProd)) continue;
                        var x = p == Prims.ReduceProd && dt.IsFloat() ? TestData.Tensor(seed++, shape, dt, 0.5, 1.5) : TestData.Tensor(seed++, shape, dt, specials: true);
                        CheckReduce(target, p, x, axes, dt.Name());
                    }
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void NanAndInfinityPropagate(Isa isa) => NanAndInfinityPropagateOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void NanAndInfinityPropagateOnVulkan() => NanAndInfinityPropagateOn(Target.Vulkan);

    static void NanAndInfinityPropagateOn(Target target)
    {
        using var _ = target.Use();
        foreach (var dt in target.Only(DType.Float32, DType.Float64))
            foreach (var shape in new[] { new[] { 70 }, new[] { 9, 70 }, new[] { 70, 9 }, new[] { 2, 700 } })
                foreach (var axes in AxisSubsets(shape.Length))
                    foreach (var p in Reducers)
                        if (p != Prims.ReduceProd) // products of the 1e300 special overflow in an order-dependent way
                            CheckReduce(target, p, TestData.Tensor(7, shape, dt, specials: true), axes, "specials");
        // A NaN in a vector lane that is not the first, and one in the scalar tail.
        foreach (var (n, positions) in new[] { (100, new[] { 5, 40, 99 }), (1000, new[] { 5, 40, 99, 999 }) })
            foreach (int pos in positions)
            {
                var v = new float[n];
                v[pos] = float.NaN;
                v[3] = float.PositiveInfinity;
                var x = target.Put(Tensor.FromArray(v));
                Assert.True(float.IsNaN(Lax.ReduceMax(x, 0).Item<float>()), $"max with NaN at {pos} of {n}");
                Assert.True(float.IsNaN(Lax.ReduceMin(x, 0).Item<float>()), $"min with NaN at {pos} of {n}");
                Assert.True(float.IsNaN(Lax.ReduceSum(x, 0).Item<float>()), $"sum with NaN at {pos} of {n}");
                Assert.True(float.IsNaN(Lax.ReduceProd(x, 0).Item<float>()), $"prod with NaN at {pos} of {n}");
                Assert.True(float.IsNaN(Lax.ReduceMax(Lax.Reshape(x, new Shape(n / 10, 10)), 0).ToArray<float>()[pos % 10]), $"strided max with NaN at {pos} of {n}");
            }
    }

    [Fact]
    public void EmptyReductionsGiveTheIdentity() => EmptyReductionsOn(Target.Cpu(Config.Isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void EmptyReductionsGiveTheIdentityOnVulkan() => EmptyReductionsOn(Target.Vulkan);

    static void EmptyReductionsOn(Target target)
    {
        var e = new Shape(2, 0);
        Tensor Z(DType t) => target.Put(Tensor.Zeros(e, t));
        Assert.Equal(new float[] { 0, 0 }, Lax.ReduceSum(Z(DType.Float32), 1).ToArray<float>());
        Assert.Equal(new float[] { 1, 1 }, Lax.ReduceProd(Z(DType.Float32), 1).ToArray<float>());
        Assert.Equal(new[] { float.NegativeInfinity, float.NegativeInfinity }, Lax.ReduceMax(Z(DType.Float32), 1).ToArray<float>());
        Assert.Equal(new[] { float.PositiveInfinity, float.PositiveInfinity }, Lax.ReduceMin(Z(DType.Float32), 1).ToArray<float>());
        Assert.Equal(new[] { int.MinValue, int.MinValue }, Lax.ReduceMax(Z(DType.Int32), 1).ToArray<int>());
        Assert.Equal(new[] { int.MaxValue, int.MaxValue }, Lax.ReduceMin(Z(DType.Int32), 1).ToArray<int>());
        Assert.Equal(new uint[] { 0, 0 }, Lax.ReduceMax(Z(DType.UInt32), 1).ToArray<uint>());
        Assert.Equal(new[] { uint.MaxValue, uint.MaxValue }, Lax.ReduceMin(Z(DType.UInt32), 1).ToArray<uint>());
        Assert.Equal(new bool[] { false, false }, Lax.ReduceMax(Z(DType.Bool), 1).ToArray<bool>());
        Assert.Equal(new bool[] { true, true }, Lax.ReduceMin(Z(DType.Bool), 1).ToArray<bool>());
        Assert.Equal(new byte[] { 255, 255 }, Lax.ReduceMin(Z(DType.UInt8), 1).ToArray<byte>());
        if (target.Supports(DType.Float64))
            Assert.Equal(double.NegativeInfinity, Lax.ReduceMax(target.Put(Tensor.Zeros(new Shape(0), DType.Float64)), 0).Item<double>());
    }

    [Fact]
    public void BoolMaxIsAnyAndMinIsAll()
    {
        var x = Tensor.FromArray(new bool[] { false, true, false, false, false, false }, 2, 3);
        Assert.Equal(new[] { true, false }, Lax.ReduceMax(x, 1).ToArray<bool>());
        Assert.Equal(new[] { false, false }, Lax.ReduceMin(x, 1).ToArray<bool>());
        Assert.Equal(new[] { true }, Lax.ReduceMin(Tensor.FromArray(new[] { true, true, true }), 0).ToArray<bool>().Take(1));
    }

    [Fact]
    public void IntegerSumsAndProductsWrap()
    {
        var x = Tensor.FromArray(new[] { int.MaxValue, 1, 2 });
        Assert.Equal(int.MinValue + 2, Lax.ReduceSum(x, 0).Item<int>());
        var y = Tensor.FromArray(new[] { 65536, 65536, 3 });
        Assert.Equal(0, Lax.ReduceProd(y, 0).Item<int>());
        var b = Tensor.FromArray(new byte[] { 200, 100 });
        Assert.Equal((byte)44, Lax.ReduceSum(b, 0).Item<byte>());
        var u = Tensor.FromArray(new[] { uint.MaxValue, 5u });
        Assert.Equal(uint.MaxValue, Lax.ReduceMax(u, 0).Item<uint>());
        Assert.Equal(4u, Lax.ReduceSum(u, 0).Item<uint>());
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void LargeContiguousAndStrided(Isa isa) => LargeContiguousAndStridedOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void LargeContiguousAndStridedOnVulkan() => LargeContiguousAndStridedOn(Target.Vulkan);

    static void LargeContiguousAndStridedOn(Target target)
    {
        using var _ = target.Use();
        var big = TestData.Tensor(11, TestData.Large);
        foreach (var p in new[] { Prims.ReduceSum, Prims.ReduceMax, Prims.ReduceMin })
            CheckReduce(target, p, big, new[] { 0 }, "large");
        var m = TestData.Tensor(12, new[] { 301, 257 });
        foreach (var axes in new[] { new[] { 0 }, new[] { 1 }, new[] { 0, 1 } })
            foreach (var p in new[] { Prims.ReduceSum, Prims.ReduceMax })
                CheckReduce(target, p, m, axes, "large 2-D");
        if (target.Supports(DType.Float64))
            CheckReduce(target, Prims.ReduceSum, TestData.Tensor(13, new[] { 70000 }, DType.Float64), new[] { 0 }, "large f64");
        var i = TestData.Tensor(14, new[] { 3, 30000 }, DType.Int32);
        CheckReduce(target, Prims.ReduceSum, i, new[] { 0 }, "large i32");
        CheckReduce(target, Prims.ReduceMax, i, new[] { 1 }, "large i32");
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void Float32SumIsAccurate(Isa isa) => Float32SumIsAccurateOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void Float32SumIsAccurateOnVulkan() => Float32SumIsAccurateOn(Target.Vulkan);

    static void Float32SumIsAccurateOn(Target target)
    {
        using var _ = target.Use();
        // 1M copies of 0.1f: a naive float32 loop drifts by ~1%; blocked, pairwise or compensated sums stay within 1e-6.
        const int n = 1 << 20;
        var v = target.Put(Tensor.FromArray(Enumerable.Repeat(0.1f, n).ToArray()));
        double exact = n * (double)0.1f;
        Assert.InRange(Lax.ReduceSum(v, 0).Item<float>(), exact * (1 - 1e-6), exact * (1 + 1e-6));
        Assert.InRange(Lax.ReduceSum(Lax.Reshape(v, new Shape(n / 4, 4)), 0).ToArray<float>()[3], exact / 4 * (1 - 1e-6), exact / 4 * (1 + 1e-6));
    }

    static byte[] Bits(Func<Tensor> f, int threads)
    {
        using var _ = Config.UseThreads(threads);
        return f().ToBytes();
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void ThreadCountDoesNotChangeBits(Isa isa) => ResultsAreDeterministicOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void ResultsAreDeterministicOnVulkan() => ResultsAreDeterministicOn(Target.Vulkan);

    /// <summary>Runs on 1, 2 and 3 CPU threads (three runs on Vulkan, where the count does not matter) give the same bits.</summary>
    static void ResultsAreDeterministicOn(Target target)
    {
        using var _ = target.Use();
        var big = target.Put(TestData.Tensor(21, new[] { 200003 }));
        var m = target.Put(TestData.Tensor(22, new[] { 3, 70001 }));
        var t = target.Put(TestData.Tensor(23, new[] { 70001, 3 }));
        var w = target.Put(TestData.Tensor(24, new[] { 40, 3000 }));
        var cases = new Func<Tensor>[]
        {
            () => Lax.ReduceSum(big, 0), () => Lax.ReduceProd(big, 0), () => Lax.ReduceSum(m, 1), () => Lax.ReduceSum(m, 0),
            () => Lax.ReduceSum(t, 0), () => Lax.ReduceSum(w, 0), () => Lax.ReduceSum(w, 1), () => Lax.ReduceMax(w, 0, 1),
            () => Lax.Cumsum(m, 1), () => Lax.Cumsum(w, 0), () => Lax.Argmax(w, 0), () => Lax.Argmin(m, 1),
        };
        for (int i = 0; i < cases.Length; i++)
        {
            var one = Bits(cases[i], 1);
            Assert.True(one.SequenceEqual(Bits(cases[i], 2)), $"case {i} on {target}: 1 vs 2 threads differ");
            Assert.True(one.SequenceEqual(Bits(cases[i], 3)), $"case {i} on {target}: 1 vs 3 threads differ");
        }
    }

    // ------------------------------------------------------------------ argmax / argmin

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void ArgReductionsMatchReference(Isa isa) => ArgReductionsOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void ArgReductionsMatchReferenceOnVulkan() => ArgReductionsOn(Target.Vulkan);

    static void ArgReductionsOn(Target target)
    {
        using var _ = target.Use();
        int seed = 300;
        foreach (var dt in target.Only(EveryDType))
            foreach (var shape in new[] { new[] { 1 }, new[] { 7 }, new[] { 3, 5 }, new[] { 2, 0, 3 }, new[] { 4, 6, 5 }, new[] { 2, 600 } })
                for (int axis = 0; axis < shape.Length; axis++)
                {
                    if (shape[axis] == 0) continue;
                    var x = TestData.Tensor(seed++, shape, dt, specials: true);
                    foreach (var p in new[] { Prims.Argmax, Prims.Argmin })
                        foreach (var idt in new[] { DType.Int32, DType.UInt32 })
                            target.AgainstReference(p, new ArgReduceParams(new[] { axis }, idt), new[] { x }, context: $"{target} {p.Name} {x.Aval} axis {axis}");
                }
        target.AgainstReference(Prims.Argmax, new ArgReduceParams(new[] { 0 }, DType.Int32), new[] { TestData.Tensor(301, TestData.Large) });
        target.AgainstReference(Prims.Argmin, new ArgReduceParams(new[] { 0 }, DType.Int32), new[] { TestData.Tensor(302, TestData.Large, specials: true) });
    }

    [Fact]
    public void ArgReductionTiesAndNaN() => ArgReductionTiesAndNaNOn(Target.Cpu(Config.Isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void ArgReductionTiesAndNaNOnVulkan() => ArgReductionTiesAndNaNOn(Target.Vulkan);

    static void ArgReductionTiesAndNaNOn(Target target)
    {
        Tensor P(Tensor t) => target.Put(t);
        var x = P(Tensor.FromArray(new[] { 1f, 3f, 3f, 0f, 0f }));
        Assert.Equal(1, Lax.Argmax(x, 0).Item<int>());
        Assert.Equal(3, Lax.Argmin(x, 0).Item<int>());
        var n = P(Tensor.FromArray(new[] { 1f, float.NaN, 5f, float.NaN, -1f }));
        Assert.Equal(1, Lax.Argmax(n, 0).Item<int>());
        Assert.Equal(1, Lax.Argmin(n, 0).Item<int>());
        var first = P(Tensor.FromArray(new[] { float.NaN, 9f }));
        Assert.Equal(0, Lax.Argmax(first, 0).Item<int>());
        var inf = P(Tensor.FromArray(new[] { float.NegativeInfinity, float.NegativeInfinity }));
        Assert.Equal(0, Lax.Argmax(inf, 0).Item<int>());
        var m = P(Tensor.FromArray(new[] { 1, 7, 7, 2, 9, 0 }, 2, 3));
        Assert.Equal(new[] { 1, 1 }, Lax.Argmax(m, 1).ToArray<int>());
        Assert.Equal(new[] { 1, 1, 0 }, Lax.Argmax(m, 0).ToArray<int>());
        Assert.Equal(new uint[] { 0, 2 }, Lax.Argmin(m, 1, DType.UInt32).ToArray<uint>());
        // Long lines: ties and NaNs far apart (across workgroups or vector blocks).
        var ties = new float[1000];
        ties[700] = 2; ties[300] = 2; ties[900] = float.NaN; ties[950] = float.NaN;
        Assert.Equal(900, Lax.Argmax(P(Tensor.FromArray(ties)), 0).Item<int>());
        ties[900] = 0; ties[950] = 0;
        Assert.Equal(300, Lax.Argmax(P(Tensor.FromArray(ties)), 0).Item<int>());
        Assert.Equal(0, Lax.Argmin(P(Tensor.FromArray(ties)), 0).Item<int>());
    }

    // ------------------------------------------------------------------ cumulative

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void CumulativeMatchesReference(Isa isa) => CumulativeOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void CumulativeMatchesReferenceOnVulkan() => CumulativeOn(Target.Vulkan);

    static void CumulativeOn(Target target)
    {
        using var _ = target.Use();
        int seed = 500;
        foreach (var dt in target.Only(EveryDType))
            foreach (var shape in new[] { new[] { 0 }, new[] { 1 }, new[] { 7 }, new[] { 3, 5 }, new[] { 2, 0, 3 }, new[] { 4, 6, 35 } })
                for (int axis = 0; axis < shape.Length; axis++)
                    foreach (var p in Scans)
                        foreach (var reverse in new[] { false, true })
                        {
                            if (dt == DType.Bool && (p == Prims.Cumsum || p == Prims.Cumprod)) continue;
                            var x = p == Prims.Cumprod && dt.IsFloat() ? TestData.Tensor(seed++, shape, dt, 0.5, 1.5) : TestData.Tensor(seed++, shape, dt, specials: true);
                            double tol = !dt.IsFloat() || p == Prims.Cummax || p == Prims.Cummin ? 0
                                : dt == DType.Float32 ? 1e-5 : dt == DType.Float64 ? 1e-12 : target.IsVulkan ? VulkanCheck.Rtol(dt, 1e-5) : 5e-2;
                            target.AgainstReference(p, new CumulativeParams(axis, reverse), new[] { x }, tol, tol * 10,
                                $"{target} {p.Name} {x.Aval} axis {axis} reverse {reverse}");
                        }
        target.AgainstReference(Prims.Cumsum, new CumulativeParams(0, true), new[] { TestData.Tensor(501, TestData.Large, DType.Int32) });
        target.AgainstReference(Prims.Cummax, new CumulativeParams(0), new[] { TestData.Tensor(502, TestData.Large, specials: true) });
        // Lines longer than one Vulkan scan block (4096), strided: block scans, carries, carry
        // application. (The CPU scans each line in order, so its float32 error grows with the line.)
        if (target.IsVulkan)
        foreach (var p in Scans)
            foreach (var reverse in new[] { false, true })
            {
                var x = p == Prims.Cumprod ? TestData.Tensor(503, new[] { 9000, 3 }, DType.Float32, 0.999, 1.001) : TestData.Tensor(503, new[] { 9000, 3 });
                target.AgainstReference(p, new CumulativeParams(0, reverse), new[] { x }, 1e-5, 1e-4, $"{target} long {p.Name} reverse {reverse}");
            }
    }

    [Fact]
    public void CumulativeHandValues()
    {
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f });
        Assert.Equal(new[] { 1f, 3f, 6f, 10f }, Lax.Cumsum(x).ToArray<float>());
        Assert.Equal(new[] { 10f, 9f, 7f, 4f }, Lax.Cumsum(x, reverse: true).ToArray<float>());
        Assert.Equal(new[] { 1f, 2f, 6f, 24f }, Lax.Cumprod(x).ToArray<float>());
        var y = Tensor.FromArray(new[] { 2, 1, 5, 3 }, 2, 2);
        Assert.Equal(new[] { 5, 3, 5, 3 }, Lax.Cummax(y, 0, reverse: true).ToArray<int>());
        Assert.Equal(new[] { 2, 2, 5, 5 }, Lax.Cummax(y, 1).ToArray<int>());
        Assert.Equal(new[] { 1, 1, 3, 3 }, Lax.Cummin(y, 1, reverse: true).ToArray<int>());
        var n = Tensor.FromArray(new[] { 1f, float.NaN, 5f });
        var cm = Lax.Cummax(n).ToArray<float>();
        Assert.Equal(1f, cm[0]);
        Assert.True(float.IsNaN(cm[1]) && float.IsNaN(cm[2]));
    }

    // ------------------------------------------------------------------ errors

    [Fact]
    public void BadInputsThrowClearErrors()
    {
        var x = Tensor.Zeros(new Shape(2, 3));
        Check.Throws<ArgumentException>(() => Lax.ReduceSum(x, 2), "reduce_sum", "axis 2", "(2, 3)");
        Check.Throws<ArgumentException>(() => Lax.ReduceMax(x, -1), "reduce_max", "axis -1");
        Check.Throws<ArgumentException>(() => Lax.ReduceMin(x, 1, 1), "reduce_min", "duplicate axis 1");
        Check.Throws<ArgumentException>(() => Lax.ReduceSum(Tensor.Zeros(new Shape(2), DType.Bool), 0), "reduce_sum", "bool");
        Check.Throws<ArgumentException>(() => Lax.ReduceProd(Tensor.Zeros(new Shape(2), DType.Bool), 0), "reduce_prod", "bool");
        Check.Throws<ArgumentException>(() => Prims.Argmax.Bind(new ArgReduceParams(new[] { 0, 1 }, DType.Int32), x), "argmax", "exactly one axis");
        Check.Throws<ArgumentException>(() => Lax.Argmax(x, 0, DType.Float32), "argmax", "index_dtype");
        Check.Throws<ArgumentException>(() => Lax.Argmin(x, 5), "argmin", "axis 5");
        Check.Throws<ArgumentException>(() => Lax.Argmax(Tensor.Zeros(new Shape(2, 0)), 1), "argmax", "size 0");
        Check.Throws<ArgumentException>(() => Lax.Cumsum(x, 2), "cumsum", "axis 2");
        Check.Throws<ArgumentException>(() => Lax.Cummax(x, -1), "cummax", "axis -1");
        Check.Throws<ArgumentException>(() => Lax.Cumsum(Tensor.Zeros(new Shape(2), DType.Bool)), "cumsum", "bool");
        Check.Throws<ArgumentException>(() => Prims.ReduceSum.Bind(Params.None, x), "reduce_sum", "ReduceParams");
        Check.Throws<ArgumentException>(() => Prims.ReduceSum.Bind(new ReduceParams(new[] { 0 }), x, x), "reduce_sum", "1 operands");
    }

    [Fact]
    public void ParamsPrintLikeJaxprs()
    {
        Assert.Equal("axes=(0, 2)", new ReduceParams(new[] { 0, 2 }).ToString());
        Assert.Equal("axes=(1,) index_dtype=int32", new ArgReduceParams(new[] { 1 }, DType.Int32).ToString());
        Assert.Equal("axis=0 reverse=True", new CumulativeParams(0, true).ToString());
        Assert.Equal(new ReduceParams(new[] { 1 }), new ReduceParams(new[] { 1 }));
    }
}
