using Stax.Tests.Conformance;
using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;

namespace Stax.Tests.Vulkan;

/// <summary>Elementwise, select, conversion and iota on Vulkan against the reference: the CPU
/// suite's cases, shapes and tolerances, for every dtype Vulkan supports (no float64 cases).</summary>
[Trait("Backend", "Vulkan")]
public class VulkanElementwiseTests
{
    static DType[] Supported(DType[] ts) => ts.Where(t => VulkanCheck.Vk.Supports(t)).ToArray();

    static int Seed(string s, int k) { int h = k; foreach (char c in s) h = h * 31 + c; return h & 0x7FFFFFFF; }

    static Tensor Input(int seed, int[] shape, DType t, double lo, double hi) => TestData.Tensor(seed, shape, t, lo, hi, specials: true);

    static Tensor Second(int seed, int[] shape, DType t, double lo, double hi, (int, int)? counts)
    {
        var v = TestData.Values(seed, shape.Aggregate(1L, (a, b) => a * b), t, lo, hi, specials: true);
        if (counts is var (clo, chi) && t.IsInteger())
        {
            var rng = new Random(seed);
            for (int i = 0; i < v.Length; i++) v[i] = t == DType.UInt8 ? rng.Next(0, 12) : rng.Next(clo, chi);
        }
        Array.Reverse(v);
        return new RefArray(shape, t, v.Select(x => RefArray.Fit(x, t)).ToArray()).ToTensor();
    }

    /// <summary>The CPU suite's tolerances against the reference (float16/bfloat16: half an ulp of the
    /// result plus the float32 kernel's error).</summary>
    static double Rtol(DType t, double r32) => t.IsFloat() ? VulkanCheck.Rtol(t, r32) : 0;

    /// <summary>Operations whose float32 result is exact or correctly rounded on every device, so
    /// float16/bfloat16 results equal the CPU's bits; the others may differ by one 16-bit ulp
    /// where the float32 results differ in the last bit next to a rounding tie.</summary>
    static readonly HashSet<Primitive> ExactOps = new()
    {
        Prims.Neg, Prims.Abs, Prims.Sign, Prims.Floor, Prims.Ceil, Prims.Round, Prims.IsFinite, Prims.Add, Prims.Sub, Prims.Mul,
        Prims.Max, Prims.Min, Prims.Eq, Prims.Ne, Prims.Lt, Prims.Le, Prims.Gt, Prims.Ge,
    };

    static void RunUnary(ElementwiseTests.UnaryCase c, DType t, int[] shape)
    {
        var x = Input(Seed(c.Prim.Name, shape.Length + shape.Sum()), shape, t, c.Lo, c.Hi);
        string ctx = $"{c.Prim.Name} {c.P} {t.Name()} {Shape.Format(shape)}";
        VulkanCheck.AgainstReference(c.Prim, c.P, new[] { x }, rtol: Rtol(t, c.Rtol32), context: ctx);
        if (VulkanCheck.Half16.Contains(t)) VulkanCheck.AgainstCpu(c.Prim, c.P, new[] { x }, ExactOps.Contains(c.Prim) ? 0 : 1, ctx);
    }

    static void RunBinary(ElementwiseTests.BinaryCase c, DType t, int[] shape)
    {
        int s = Seed(c.Prim.Name, shape.Length + shape.Sum());
        var x = Input(s, shape, t, c.Lo, c.Hi);
        var y = Second(s + 1, shape, t, c.YLo, c.YHi, c.IntCounts);
        string ctx = $"{c.Prim.Name} {t.Name()} {Shape.Format(shape)}";
        VulkanCheck.AgainstReference(c.Prim, Params.None, new[] { x, y }, rtol: Rtol(t, c.Rtol32), context: ctx);
        if (VulkanCheck.Half16.Contains(t)) VulkanCheck.AgainstCpu(c.Prim, Params.None, new[] { x, y }, ExactOps.Contains(c.Prim) ? 0 : 1, ctx);
    }

    public static IEnumerable<object[]> UnaryNames => ElementwiseTests.UnaryCases.Select((c, i) => new object[] { i, $"{c.Prim.Name} {c.P}" });
    public static IEnumerable<object[]> BinaryNames => ElementwiseTests.BinaryCases.Select((c, i) => new object[] { i, c.Prim.Name });

    [VulkanTheory]
    [MemberData(nameof(UnaryNames))]
    public void UnaryMatchesReference(int index, string name)
    {
        var c = ElementwiseTests.UnaryCases[index];
        Assert.Equal(name, $"{c.Prim.Name} {c.P}");
        foreach (var t in Supported(c.DTypes))
        {
            foreach (var shape in TestData.Shapes) RunUnary(c, t, shape);
            RunUnary(c, t, TestData.Large);
        }
    }

    [VulkanTheory]
    [MemberData(nameof(BinaryNames))]
    public void BinaryMatchesReference(int index, string name)
    {
        var c = ElementwiseTests.BinaryCases[index];
        Assert.Equal(name, c.Prim.Name);
        foreach (var t in Supported(c.DTypes))
        {
            foreach (var shape in TestData.Shapes) RunBinary(c, t, shape);
            RunBinary(c, t, TestData.Large);
        }
    }

    [VulkanFact]
    public void SelectMatchesReference()
    {
        foreach (var t in VkTypes)
            foreach (var shape in TestData.Shapes.Append(new[] { 131 }).Append(TestData.Large))
            {
                var pred = TestData.Tensor(3, shape, DType.Bool);
                VulkanCheck.AgainstReference(Prims.Select, Params.None,
                    new[] { pred, Input(4, shape, t, -3, 3), Input(5, shape, t, -3, 3) }, context: $"select {t.Name()} {Shape.Format(shape)}");
            }
    }

    static readonly DType[] VkTypes = { DType.Float32, DType.Float16, DType.BFloat16, DType.Int32, DType.UInt32, DType.UInt8, DType.Bool };

    [VulkanFact]
    public void ConvertElementTypeMatchesReference()
    {
        foreach (var from in VkTypes)
            foreach (var to in VkTypes)
                foreach (var shape in TestData.Shapes.Append(TestData.Large))
                {
                    var x = TestData.Tensor(7, shape, from, -300, 300, specials: true);
                    VulkanCheck.AgainstReference(Prims.ConvertElementType, new ConvertParams(to), new[] { x }, context: $"convert {from.Name()}->{to.Name()} {Shape.Format(shape)}");
                    VulkanCheck.AgainstCpu(Prims.ConvertElementType, new ConvertParams(to), new[] { x }, context: $"convert {from.Name()}->{to.Name()} {Shape.Format(shape)}");
                }
    }

    [VulkanFact]
    public void BitcastMatchesReference()
    {
        var four = new[] { DType.Float32, DType.Int32, DType.UInt32 };
        foreach (var group in new[] { four, VulkanCheck.Half16 })
        foreach (var from in group)
            foreach (var to in group)
                foreach (var shape in new[] { new int[0], new[] { 0 }, new[] { 7 }, TestData.Large })
                    VulkanCheck.AgainstReference(Prims.BitcastConvertType, new BitcastParams(to),
                        new[] { TestData.Tensor(8, shape, from, specials: true) }, context: $"bitcast {from.Name()}->{to.Name()}");
    }

    [VulkanFact]
    public void IotaMatchesReference()
    {
        // iota has no operands: call the backend directly (the default backend is process-wide).
        var vk = VulkanCheck.Vk;
        foreach (var t in VkTypes.Where(t => t != DType.Bool))
            foreach (var (shape, dim) in new[] { (new[] { 0 }, 0), (new[] { 1 }, 0), (new[] { 7 }, 0), (new[] { 3, 5 }, 1), (new[] { 3, 5 }, 0), (new[] { 2, 3, 4 }, 1), (new[] { 300, 300 }, 0) })
            {
                var p = new IotaParams(t, new Shape(shape), dim);
                var outType = Prims.Iota.AbstractEval(ReadOnlySpan<AbstractValue>.Empty, p);
                var buf = vk.Execute(Prims.Iota, p, ReadOnlySpan<Stax.Backends.DeviceBuffer>.Empty, ReadOnlySpan<AbstractValue>.Empty, outType);
                var bytes = new byte[buf[0].ByteLength];
                vk.Download(buf[0], bytes);
                var expected = Ref.Eval(Prims.Iota, p);
                Check.Close(expected[0].Data, RefArray.FromBytes(bytes, shape, t).Data, context: $"iota {t.Name()} {Shape.Format(shape)} dim {dim}");
            }
    }
}
