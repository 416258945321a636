using Stax.Tests.Infrastructure;
using Stax.Tests.Vulkan;

namespace Stax.Tests.Conformance;

/// <summary>sort and top_k against the reference on every backend.</summary>
public class SortingTests
{
    /// <summary>Every dtype a sort or top_k key may have; each backend runs those it supports.</summary>
    static readonly DType[] DTypes = { DType.Float32, DType.Float64, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool };
    static readonly int[][] Shapes = { new[] { 0 }, new[] { 1 }, new[] { 7 }, new[] { 3, 5 }, new[] { 2, 0, 3 }, new[] { 67 }, new[] { 4, 33 }, new[] { 2, 3, 4 } };

    static Tensor F32(float[] data, params int[] shape) => Tensor.From<float>(data, new Shape(shape));
    static Tensor I32(int[] data, params int[] shape) => Tensor.From<int>(data, new Shape(shape));

    /// <summary>Ties on purpose: values from a small range.</summary>
    internal static Tensor WithTies(int seed, int[] shape, DType dt)
    {
        var t = TestData.Tensor(seed, shape, dt, specials: true);
        if (dt.IsFloat())
        {
            var v = t.ToDoubleArray().Select((x, i) => i < 6 ? x : Math.Round(x)).ToArray();
            return new Reference.RefArray(shape, dt, v).ToTensor();
        }
        if (dt == DType.Int32) return new Reference.RefArray(shape, dt, t.ToDoubleArray().Select(x => x % 5).ToArray()).ToTensor();
        return t;
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void SortMatchesReference(Isa isa) => SortMatchesReferenceOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void SortMatchesReferenceOnVulkan() => SortMatchesReferenceOn(Target.Vulkan);

    static void SortMatchesReferenceOn(Target target)
    {
        using var _ = target.Use();
        int seed = 0;
        foreach (var shape in Shapes)
            foreach (var dt in target.Only(DTypes))
                for (int dim = 0; dim < shape.Length; dim++)
                {
                    var x = WithTies(seed++, shape, dt);
                    target.AgainstReference(Prims.Sort, new SortParams(dim), new[] { x }, context: $"{target} sort {Shape.Format(shape)} {dt} dim {dim}");
                    // Key plus payload: the payload shows the permutation (and stability).
                    var payload = Lax.Iota(DType.Int32, new Shape(shape), dim);
                    var ctx = $"{target} sort+payload {Shape.Format(shape)} {dt} dim {dim}";
                    target.AgainstReference(Prims.Sort, new SortParams(dim), new[] { x, payload }, context: ctx);
                    target.AgainstCpuIfHalfOnVulkan(Prims.Sort, new SortParams(dim), new[] { x, payload }, dt, ctx);
                }
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void SortTwoKeysMatchesReference(Isa isa) => SortTwoKeysOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void SortTwoKeysMatchesReferenceOnVulkan() => SortTwoKeysOn(Target.Vulkan);

    static void SortTwoKeysOn(Target target)
    {
        using var _ = target.Use();
        var k1 = IndexingTests.RandIdx(1, new[] { 5, 40 }, 0, 3);
        var k2 = WithTies(2, new[] { 5, 40 }, DType.Float32);
        foreach (var pdt in target.Only(DType.Float64, DType.UInt8))
        {
            var payload = TestData.Tensor(3, new[] { 5, 40 }, pdt);
            for (int dim = 0; dim < 2; dim++)
            {
                target.AgainstReference(Prims.Sort, new SortParams(dim, NumKeys: 2), new[] { k1, k2, payload });
                target.AgainstReference(Prims.Sort, new SortParams(dim, IsStable: false, NumKeys: 3), new[] { k1, k2, payload });
            }
        }
    }

    [Fact]
    public void SortLargeIsThreadDeterministic() => SortLargeOn(Target.Cpu(Config.Isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void SortLargeIsDeterministicOnVulkan() => SortLargeOn(Target.Vulkan);

    /// <summary>Long lines match the reference, and two runs (on one and two CPU threads; the count
    /// does not matter on Vulkan) give the same permutation.</summary>
    static void SortLargeOn(Target target)
    {
        using var _ = target.Use();
        var x = TestData.Tensor(4, new[] { 1100, 64 }, specials: true);
        var payload = Lax.Iota(DType.Int32, new Shape(1100, 64), 1);
        target.AgainstReference(Prims.Sort, new SortParams(1), new[] { x, payload });
        var y = TestData.Tensor(5, new[] { 64, 1100 });
        target.AgainstReference(Prims.Sort, new SortParams(0), new[] { y });
        byte[] one, two;
        using (Config.UseThreads(1)) one = target.Run(Prims.Sort, new SortParams(1), x, payload)[1].ToBytes();
        using (Config.UseThreads(2)) two = target.Run(Prims.Sort, new SortParams(1), x, payload)[1].ToBytes();
        Assert.Equal(one, two);
    }

    [Fact]
    public void SortSpecialsHandDerived() => SortSpecialsOn(Target.Cpu(Config.Isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void SortSpecialsHandDerivedOnVulkan() => SortSpecialsOn(Target.Vulkan);

    static void SortSpecialsOn(Target target)
    {
        using var _ = target.Use();
        // NaNs of either sign go last in input order; -0.0 ties with +0.0 (jax maps -0 to +0 in its comparator).
        float negNaN = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00000));
        float posNaN = BitConverter.Int32BitsToSingle(0x7FC00001);
        var x = target.Put(F32(new[] { 0f, posNaN, -0f, -1f, float.PositiveInfinity, negNaN, -0f, float.NegativeInfinity }, 8));
        var (keys, perm) = Lax.SortKeyVal(x, target.Put(Lax.Iota(DType.Int32, new Shape(8))));
        Assert.Equal(new[] { 7, 3, 0, 2, 6, 4, 1, 5 }, perm.ToArray<int>());
        var bits = keys.ToArray<float>().Select(BitConverter.SingleToInt32Bits).ToArray();
        var expected = new[] { float.NegativeInfinity, -1f, 0f, -0f, -0f, float.PositiveInfinity, posNaN, negNaN }.Select(BitConverter.SingleToInt32Bits).ToArray();
        Assert.Equal(expected, bits);
        // Stability: equal keys keep their order.
        var (k2, v2) = Lax.SortKeyVal(target.Put(I32(new[] { 2, 1, 2, 1 }, 4)), target.Put(I32(new[] { 0, 1, 2, 3 }, 4)));
        Assert.Equal(new[] { 1, 1, 2, 2 }, k2.ToArray<int>());
        Assert.Equal(new[] { 1, 3, 0, 2 }, v2.ToArray<int>());
        // Two keys: by the first, then the second.
        var r = Lax.Sort(target.Put(I32(new[] { 1, 0, 1, 0 }, 4), F32(new[] { 5f, 7, 3, 6 }, 4), I32(new[] { 0, 1, 2, 3 }, 4)), numKeys: 2);
        Assert.Equal(new[] { 3, 1, 2, 0 }, r[2].ToArray<int>());
        // Unsigned integers compare as unsigned.
        Assert.Equal(new uint[] { 1, 5, uint.MaxValue }, Lax.Sort(target.Put(Tensor.From<uint>(new uint[] { uint.MaxValue, 1, 5 }, new Shape(3)))).ToArray<uint>());
    }

    [Fact]
    public void NumpySortAndArgsortHandDerived()
    {
        var a = Np.Argsort(F32(new[] { 3f, 1, 2, 1, float.NaN, 0 }, 6));
        Assert.Equal(new[] { 5, 1, 3, 2, 0, 4 }, a.ToArray<int>());
        var b = Np.Argsort(I32(new[] { 3, 1, 1, 2, 2, 0 }, 3, 2), axis: 0);
        Assert.Equal(new[] { 1, 2, 2, 0, 0, 1 }, b.ToArray<int>());
        var c = Np.Sort(F32(new[] { 3f, -1, 2, 0, 5, -2 }, 2, 3));
        Assert.Equal(new[] { -1f, 2, 3, -2, 0, 5 }, c.ToArray<float>());
        Assert.Equal(new[] { 0f, -1, -2, 3, 5, 2 }, Np.Sort(F32(new[] { 3f, -1, 2, 0, 5, -2 }, 2, 3), axis: 0).ToArray<float>());
        Assert.Equal(DType.Int32, Np.Argsort(Tensor.Zeros(new Shape(0))).DType);
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void TopKMatchesReference(Isa isa) => TopKMatchesReferenceOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void TopKMatchesReferenceOnVulkan() => TopKMatchesReferenceOn(Target.Vulkan);

    static void TopKMatchesReferenceOn(Target target)
    {
        using var _ = target.Use();
        int seed = 50;
        foreach (var shape in new[] { new[] { 7 }, new[] { 3, 5 }, new[] { 0, 4 }, new[] { 4, 0 }, new[] { 2, 3, 9 }, new[] { 1 } })
            foreach (var dt in target.Only(DTypes))
                foreach (int k in new[] { 0, 1, 3, shape[^1] }.Distinct())
                {
                    if (k > shape[^1]) continue;
                    var x = WithTies(seed++, shape, dt);
                    var ctx = $"{target} top_k {Shape.Format(shape)} {dt} k={k}";
                    target.AgainstReference(Prims.TopK, new TopKParams(k), new[] { x }, context: ctx);
                    target.AgainstCpuIfHalfOnVulkan(Prims.TopK, new TopKParams(k), new[] { x }, dt, ctx);
                }
    }

    [Fact]
    public void TopKLargeAndHandDerived() => TopKLargeAndHandDerivedOn(Target.Cpu(Config.Isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void TopKLargeAndHandDerivedOnVulkan() => TopKLargeAndHandDerivedOn(Target.Vulkan);

    static void TopKLargeAndHandDerivedOn(Target target)
    {
        using var _ = target.Use();
        var x = TestData.Tensor(6, new[] { 1100, 64 }, specials: true);
        target.AgainstReference(Prims.TopK, new TopKParams(5), new[] { x });
        byte[] one, two;
        using (Config.UseThreads(1)) one = target.Run(Prims.TopK, new TopKParams(5), x)[1].ToBytes();
        using (Config.UseThreads(2)) two = target.Run(Prims.TopK, new TopKParams(5), x)[1].ToBytes();
        Assert.Equal(one, two);

        // NaN counts as largest; equal values give the lower index first; -0.0 ties with +0.0.
        var y = target.Put(F32(new[] { 1f, 3, float.NaN, 3, -0f, 0f, 2 }, 7));
        var (v, i) = Np.TopK(y, 7);
        Assert.Equal(new[] { 2, 1, 3, 6, 0, 4, 5 }, i.ToArray<int>());
        Assert.Equal(DType.Int32, i.DType);
        var vals = v.ToArray<float>();
        Assert.True(float.IsNaN(vals[0]));
        Assert.Equal(new[] { 3f, 3, 2, 1 }, vals[1..5]);
        var (v2, i2) = Lax.TopK(target.Put(I32(new[] { 5, 1, 9, 9, 0, 7 }, 2, 3)), 2);
        Assert.Equal(new[] { 9, 5, 9, 7 }, v2.ToArray<int>());
        Assert.Equal(new[] { 2, 0, 0, 2 }, i2.ToArray<int>());
    }

    [Fact]
    public void BadInputsThrow()
    {
        var x = Tensor.Zeros(new Shape(3, 4));
        Check.Throws<ArgumentException>(() => Lax.Sort(x, 2), "sort:", "axis 2", "(3, 4)");
        Check.Throws<ArgumentException>(() => Prims.Sort.Bind(new SortParams(-1), x), "sort:", "dimension -1");
        Check.Throws<ArgumentException>(() => Lax.Sort(new[] { x, Tensor.Zeros(new Shape(4, 3)) }), "sort:", "same shape", "(3, 4)", "(4, 3)");
        Check.Throws<ArgumentException>(() => Lax.Sort(new[] { x, x }, numKeys: 3), "sort:", "num_keys 3", "[1, 2]");
        Check.Throws<ArgumentException>(() => Lax.Sort(new[] { x }, numKeys: 0), "sort:", "num_keys 0");
        Check.Throws<ArgumentException>(() => Lax.Sort(Tensor.Scalar(1)), "sort:", "rank >= 1");
        Check.Throws<ArgumentException>(() => Lax.Sort(Array.Empty<Tensor>()), "sort:", "at least one");
        Check.Throws<ArgumentException>(() => Lax.TopK(x, 5), "top_k:", "k=5", "[0, 4]", "(3, 4)");
        Check.Throws<ArgumentException>(() => Lax.TopK(x, -1), "top_k:", "k=-1");
        Check.Throws<ArgumentException>(() => Lax.TopK(Tensor.Scalar(1), 1), "top_k:", "rank >= 1");
        Check.Throws<ArgumentException>(() => Np.Argsort(x, axis: -3), "argsort:", "axis -3");
    }
}
