using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;
using Stax.Tests.Vulkan;

namespace Stax.Tests.Conformance;

/// <summary>conv_general_dilated against the reference on every backend.</summary>
public class ConvTests
{
    public sealed record Case(string Name, int[] Lhs, int[] Rhs, int[] Strides, (int, int)[] Pads, int[]? LhsDil = null, int[]? RhsDil = null,
        (string, string, string)? Specs = null, int G = 1, int B = 1)
    {
        public ConvParams Params()
        {
            int ns = Lhs.Length - 2;
            var ones = Enumerable.Repeat(1, ns).ToArray();
            var dn = Specs is { } s ? ConvDimensionNumbers.FromStrings(s.Item1, s.Item2, s.Item3) : ConvDimensionNumbers.Default(Lhs.Length);
            return new ConvParams(Strides, Pads.Select(p => p.Item1).ToArray(), Pads.Select(p => p.Item2).ToArray(),
                LhsDil ?? ones, RhsDil ?? ones, dn, G, B);
        }
        public override string ToString() => Name;
    }

    /// <summary>The configurations every backend runs (the Vulkan-only implicit-GEMM tests reuse them).</summary>
    internal static readonly Case[] Cases =
    {
        new("basic", new[] { 2, 3, 7, 6 }, new[] { 4, 3, 3, 2 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("strided+padded", new[] { 2, 3, 9, 8 }, new[] { 5, 3, 3, 3 }, new[] { 2, 3 }, new[] { (1, 2), (0, 1) }),
        new("negative padding", new[] { 1, 2, 8, 7 }, new[] { 3, 2, 2, 2 }, new[] { 1, 2 }, new[] { (-1, 0), (2, -2) }),
        new("lhs dilation (transposed conv)", new[] { 2, 3, 5, 4 }, new[] { 2, 3, 3, 3 }, new[] { 1, 1 }, new[] { (2, 2), (1, 2) }, new[] { 2, 3 }),
        new("rhs dilation (atrous)", new[] { 1, 2, 10, 9 }, new[] { 3, 2, 3, 2 }, new[] { 1, 2 }, new[] { (1, 1), (0, 0) }, null, new[] { 2, 3 }),
        new("feature groups 2", new[] { 2, 4, 6, 5 }, new[] { 6, 2, 3, 3 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }, G: 2),
        new("depthwise", new[] { 2, 3, 6, 6 }, new[] { 6, 1, 3, 3 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }, G: 3),
        new("batch groups 2", new[] { 4, 3, 6, 5 }, new[] { 4, 3, 2, 2 }, new[] { 1, 1 }, new[] { (0, 0), (0, 1) }, B: 2),
        new("NHWC/HWIO", new[] { 2, 7, 6, 3 }, new[] { 3, 2, 3, 5 }, new[] { 2, 1 }, new[] { (1, 1), (0, 1) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("NHWC groups", new[] { 2, 5, 5, 4 }, new[] { 3, 3, 2, 4 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }, Specs: ("NHWC", "HWIO", "NHWC"), G: 2),
        new("NCHW/OIHW->NHWC", new[] { 2, 3, 6, 5 }, new[] { 4, 3, 2, 2 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }, Specs: ("NCHW", "OIHW", "NHWC")),
        new("odd specs", new[] { 5, 2, 3, 6 }, new[] { 2, 3, 4, 3 }, new[] { 1, 1 }, new[] { (1, 0), (0, 0) }, new[] { 1, 2 }, new[] { 2, 1 }, Specs: ("HNCW", "HIOW", "WCNH")),
        new("1-D", new[] { 3, 2, 11 }, new[] { 4, 2, 3 }, new[] { 2 }, new[] { (1, 1) }),
        new("1-D NWC", new[] { 3, 11, 2 }, new[] { 3, 2, 4 }, new[] { 1 }, new[] { (2, 0) }, null, new[] { 2 }, ("NWC", "WIO", "NWC")),
        new("3-D", new[] { 1, 2, 5, 4, 6 }, new[] { 3, 2, 2, 3, 2 }, new[] { 1, 2, 1 }, new[] { (1, 0), (1, 1), (0, 1) }),
        new("1x1", new[] { 2, 5, 4, 3 }, new[] { 7, 5, 1, 1 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("kernel larger than input", new[] { 1, 2, 3, 3 }, new[] { 2, 2, 4, 4 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("zero batch", new[] { 0, 2, 4, 4 }, new[] { 3, 2, 2, 2 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("zero features", new[] { 2, 0, 4, 4 }, new[] { 3, 0, 2, 2 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
        new("size 1", new[] { 1, 1, 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
    };

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void ConfigurationsMatchReference(Isa isa) => ConfigurationsMatchReferenceOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void ConfigurationsMatchReferenceOnVulkan() => ConfigurationsMatchReferenceOn(Target.Vulkan);

    /// <summary>Every configuration in float32 and, on Vulkan, in its 16-bit float types too (the
    /// CPU's 16-bit convolutions are checked once, with their own tolerances, in OtherDTypes).</summary>
    static void ConfigurationsMatchReferenceOn(Target target)
    {
        using var _ = target.Use();
        foreach (var dt in target.IsVulkan ? VulkanCheck.Floats : new[] { DType.Float32 })
        {
            int seed = 100;
            foreach (var c in Cases)
            {
                var x = VulkanCheck.As(TestData.Tensor(seed++, c.Lhs), dt);
                var w = VulkanCheck.As(TestData.Tensor(seed++, c.Rhs), dt);
                target.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, VulkanCheck.Rtol(dt, 1e-5), 1e-4, $"{target} {c.Name} {dt.Name()}");
            }
        }
    }

    static readonly Lazy<(Tensor X, Tensor W, ConvParams P, RefArray E)> Large = new(() =>
    {
        // 4 x 16 x 33 x 33 = 69696 outputs; NHWC so the output scatter runs.
        var c = new Case("large", new[] { 4, 35, 35, 5 }, new[] { 3, 3, 5, 16 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }, Specs: ("NHWC", "HWIO", "NHWC"));
        var x = TestData.Tensor(7, c.Lhs);
        var w = TestData.Tensor(8, c.Rhs);
        var p = c.Params();
        return (x, w, p, Ref.Eval(Prims.ConvGeneralDilated, p, RefArray.From(x), RefArray.From(w))[0]);
    });

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void LargeConvMatchesReferenceAndIsThreadDeterministic(Isa isa) => LargeConvOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void LargeConvMatchesReferenceAndIsDeterministicOnVulkan() => LargeConvOn(Target.Vulkan);

    /// <summary>The large convolution matches the reference, and two runs (on one and two CPU threads;
    /// the thread count does not matter on Vulkan) give the same bits.</summary>
    static void LargeConvOn(Target target)
    {
        using var _ = target.Use();
        var (x, w, p, e) = Large.Value;
        Tensor r1, r2, r3;
        using (Config.UseThreads(1)) r1 = target.Run(Prims.ConvGeneralDilated, p, x, w)[0];
        using (Config.UseThreads(2)) r2 = target.Run(Prims.ConvGeneralDilated, p, x, w)[0];
        Check.Close(e, r1, 1e-5, 1e-4, $"{target} large conv");
        Assert.Equal(r1.ToBytes(), r2.ToBytes());
        // One image: the GEMM itself is threaded instead of the batch.
        var one = Lax.Reshape(TestData.Tensor(9, new[] { 1, 40, 40, 5 }), new Shape(1, 40, 40, 5));
        using (Config.UseThreads(1)) r1 = target.Run(Prims.ConvGeneralDilated, p, one, w)[0];
        using (Config.UseThreads(2)) r3 = target.Run(Prims.ConvGeneralDilated, p, one, w)[0];
        Assert.Equal(r1.ToBytes(), r3.ToBytes());
    }

    // The three convolutions of a training step, at sizes where the GEMM has several row blocks and
    // padded borders mix with interior panels: forward (NHWC/HWIO, SAME), the weight gradient's
    // form (batch and feature roles swapped: output rows in HWIO memory order) and the input
    // gradient's form (a kernel whose k dims do not collapse, so it is copied).
    static readonly Case[] TrainingCases =
    {
        new("forward SAME", new[] { 4, 12, 12, 6 }, new[] { 3, 3, 6, 10 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("weight-gradient form", new[] { 4, 12, 12, 6 }, new[] { 4, 12, 12, 10 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }, Specs: ("CHWN", "IHWO", "HWNC")),
        new("input-gradient form", new[] { 4, 12, 12, 10 }, new[] { 3, 3, 6, 10 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }, Specs: ("NHWC", "HWOI", "NHWC")),
        new("strided NCHW", new[] { 3, 5, 17, 16 }, new[] { 7, 5, 3, 3 }, new[] { 2, 2 }, new[] { (1, 1), (0, 1) }),
    };

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void TrainingShapedConvsMatchReferenceOnAnyThreadCount(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        int seed = 300;
        foreach (var c in TrainingCases)
        {
            var x = TestData.Tensor(seed++, c.Lhs);
            var w = TestData.Tensor(seed++, c.Rhs);
            Check.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, 1e-5, 1e-4, c.Name);
            Tensor r1, r2;
            using (Config.UseThreads(1)) r1 = Prims.ConvGeneralDilated.Bind1(c.Params(), x, w);
            using (Config.UseThreads(2)) r2 = Prims.ConvGeneralDilated.Bind1(c.Params(), x, w);
            Assert.Equal(r1.ToBytes(), r2.ToBytes());
        }
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void OtherDTypes(Isa isa) => OtherDTypesOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void OtherDTypesOnVulkan() => OtherDTypesOn(Target.Vulkan);

    static void OtherDTypesOn(Target target)
    {
        using var _ = target.Use();
        var c = Cases[1];
        foreach (var t in target.Only(DType.Float64, DType.Int32, DType.Float16, DType.BFloat16))
        {
            var x = TestData.Tensor(50, c.Lhs, t);
            var w = TestData.Tensor(51, c.Rhs, t);
            var (rtol, atol) = t switch { DType.Float64 => (1e-12, 1e-12), DType.Int32 => (0.0, 0.0), DType.Float16 => (3e-3, 0.05), _ => (2e-2, 0.3) };
            target.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, rtol, atol, $"{target} {t.Name()}");
        }
        var f = TestData.Tensor(52, c.Lhs, DType.Float16);
        var g = TestData.Tensor(53, c.Rhs, DType.Float16);
        target.AgainstReference(Prims.ConvGeneralDilated, c.Params() with { PreferredElementType = DType.Float32 }, new[] { f, g }, 1e-5, 1e-4, $"{target} f16->f32");
    }

    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void NaNPropagates(Isa isa) => NaNPropagatesOn(Target.Cpu(isa));

    [VulkanFact, Trait("Backend", "Vulkan")]
    public void NaNPropagatesOnVulkan() => NaNPropagatesOn(Target.Vulkan);

    static void NaNPropagatesOn(Target target)
    {
        using var _ = target.Use();
        var x = TestData.Tensor(60, new[] { 1, 1, 4, 4 }, specials: true);
        var w = TestData.Tensor(61, new[] { 1, 1, 2, 2 });
        target.AgainstReference(Prims.ConvGeneralDilated, Cases[0].Params(), new[] { x, w }, 1e-5, 1e-5);
    }

    [Fact]
    public void LaxWrappers()
    {
        var x = TestData.Tensor(70, new[] { 2, 3, 7, 8 });
        var w = TestData.Tensor(71, new[] { 4, 3, 3, 3 });
        // SAME with stride 2: out = ceil(in / 2); pads from padtype_to_pads.
        var same = Lax.Conv(x, w, new[] { 2, 2 }, "SAME");
        Assert.Equal(new Shape(2, 4, 4, 4), same.Shape);
        Assert.Equal(new[] { (1, 1), (0, 1) }, Lax.PadtypeToPads(new[] { 7, 8 }, new[] { 3, 3 }, new[] { 2, 2 }, "SAME"));
        Assert.Equal(new[] { (1, 1), (1, 0) }, Lax.PadtypeToPads(new[] { 7, 8 }, new[] { 3, 3 }, new[] { 2, 2 }, "SAME_LOWER"));
        Check.Close(Lax.ConvWithGeneralPadding(x, w, new[] { 2, 2 }, new[] { (1, 1), (0, 1) }).ToDoubleArray(), same.ToDoubleArray());
        Assert.Equal(new Shape(2, 4, 5, 6), Lax.Conv(x, w, new[] { 1, 1 }, "VALID").Shape);
        // SAME with rhs dilation uses the dilated kernel size: stride 1 keeps the spatial shape.
        Assert.Equal(new Shape(2, 4, 7, 8), Lax.ConvGeneralDilated(x, w, new[] { 1, 1 }, "SAME", rhsDilation: new[] { 2, 3 }).Shape);
        // NHWC / HWIO with SAME.
        var xh = TestData.Tensor(72, new[] { 2, 7, 8, 3 });
        var wh = TestData.Tensor(73, new[] { 3, 2, 3, 4 });
        var rh = Lax.ConvWithGeneralDimensionNumbers(xh, wh, new[] { 1, 1 }, "SAME", ("NHWC", "HWIO", "NHWC"));
        Assert.Equal(new Shape(2, 7, 8, 4), rh.Shape);
        var expected = Ref.Eval(Prims.ConvGeneralDilated, new ConvParams(new[] { 1, 1 }, new[] { 1, 0 }, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 1, 1 },
            ConvDimensionNumbers.FromStrings("NHWC", "HWIO", "NHWC")), RefArray.From(xh), RefArray.From(wh))[0];
        Check.Close(expected, rh, 1e-5, 1e-4);
        Assert.Equal(new IntTuple(0, 3, 1, 2), ConvDimensionNumbers.FromStrings("NHWC", "HWIO", "NHWC").LhsSpec);
        Assert.Equal(new IntTuple(3, 2, 0, 1), ConvDimensionNumbers.FromStrings("NHWC", "HWIO", "NHWC").RhsSpec);
    }

    [Fact]
    public void BadInputsThrow()
    {
        var x = TestData.Tensor(1, new[] { 2, 4, 5, 5 });
        var w = TestData.Tensor(2, new[] { 6, 3, 3, 3 });
        var ok = new[] { (0, 0), (0, 0) };
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, w, new[] { 1, 1 }, ok), "conv_general_dilated", "feature dimension size 4", "input feature dimension size 3");
        var w2 = TestData.Tensor(3, new[] { 6, 2, 3, 3 });
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, w2, new[] { 1, 1 }, ok, featureGroupCount: 3), "conv_general_dilated", "multiple of feature_group_count 3");
        var w5 = TestData.Tensor(4, new[] { 5, 2, 3, 3 });
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, w5, new[] { 1, 1 }, ok, featureGroupCount: 2), "conv_general_dilated", "output feature dimension size 5", "feature_group_count 2");
        var w4 = TestData.Tensor(5, new[] { 6, 4, 3, 3 });
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, w4, new[] { 1, 1 }, ok, batchGroupCount: 4), "conv_general_dilated", "batch dimension size 2", "batch_group_count 4");
        var x4 = TestData.Tensor(6, new[] { 4, 4, 5, 5 });
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x4, w4, new[] { 1, 1 }, ok, batchGroupCount: 4), "conv_general_dilated", "output feature dimension size 6", "batch_group_count 4");
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x4, w2, new[] { 1, 1 }, ok, featureGroupCount: 2, batchGroupCount: 2), "conv_general_dilated", "at most one");
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, TestData.Tensor(7, new[] { 6, 4, 3 }), new[] { 1 }, new[] { (0, 0) }), "conv_general_dilated", "same rank");
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, w4, new[] { 1 }, ok), "conv_general_dilated", "window_strides", "spatial");
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, w4, new[] { 0, 1 }, ok), "conv_general_dilated", "window_strides", "positive");
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, w4, new[] { 1, 1 }, ok, lhsDilation: new[] { 0, 1 }), "conv_general_dilated", "lhs_dilation");
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, w4, new[] { 1, 1 }, ok, rhsDilation: new[] { 1, -1 }), "conv_general_dilated", "rhs_dilation");
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, w4, new[] { 1, 1 }, new[] { (-3, -3), (0, 0) }), "conv_general_dilated", "padding (-3, -3)");
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, w4, new[] { 1, 1 }, ok, dimensionNumbers: new ConvDimensionNumbers(new[] { 0, 1, 2, 2 }, new[] { 0, 1, 2, 3 }, new[] { 0, 1, 2, 3 })), "conv_general_dilated", "lhs_spec", "permutation");
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(x, TestData.Tensor(8, new[] { 6, 4, 3, 3 }, DType.Int32), new[] { 1, 1 }, ok), "conv_general_dilated", "dtypes must be equal");
        Check.Throws<ArgumentException>(() => Lax.ConvGeneralDilated(TestData.Tensor(9, new[] { 1, 1, 2, 2 }, DType.Bool), TestData.Tensor(10, new[] { 1, 1, 1, 1 }, DType.Bool), new[] { 1, 1 }, ok), "conv_general_dilated", "bool is not supported");
        Check.Throws<ArgumentException>(() => Lax.Conv(x, w4, new[] { 1, 1 }, "FULL"), "padtype_to_pads", "FULL");
        Check.Throws<ArgumentException>(() => ConvDimensionNumbers.FromStrings("NHWC", "HWIO", "NHW"), "conv_dimension_numbers", "equal lengths");
        Check.Throws<ArgumentException>(() => ConvDimensionNumbers.FromStrings("NHWX", "HWIO", "NHWC"), "conv_dimension_numbers", "'C'");
    }
}
