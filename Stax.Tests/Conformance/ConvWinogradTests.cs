using Stax.Backends.Cpu;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Conformance;

/// <summary>
/// The CPU's Winograd convolutions (stride-1 3x3 forward and input-gradient convolutions, and the
/// 3x3 weight gradient) against the float64 reference, across sizes that leave partial tiles,
/// padding, channel counts that are not multiples of the vector width, and layouts; and the shapes
/// they must leave to the GEMM (strides, dilation, groups, small channel counts).
/// </summary>
public class ConvWinogradTests
{
    static readonly ConvTests.Case[] Winograd =
    {
        new("NHWC SAME 16->32", new[] { 2, 8, 8, 16 }, new[] { 3, 3, 16, 32 }, new[] { 1, 1 },
            new[] { (1, 1), (1, 1) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("NHWC VALID odd 9->10", new[] { 3, 9, 7, 9 }, new[] { 3, 3, 9, 10 }, new[] { 1, 1 },
            new[] { (0, 0), (0, 0) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("NHWC asymmetric padding 20->70", new[] { 1, 11, 6, 20 }, new[] { 3, 3, 20, 70 }, new[] { 1, 1 },
            new[] { (2, 0), (0, 1) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("negative padding", new[] { 2, 10, 9, 8 }, new[] { 3, 3, 8, 8 }, new[] { 1, 1 },
            new[] { (-1, 2), (1, -2) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("input-gradient form 33->17", new[] { 2, 7, 8, 33 }, new[] { 3, 3, 17, 33 }, new[] { 1, 1 },
            new[] { (2, 2), (2, 2) }, Specs: ("NHWC", "HWOI", "NHWC")),
        new("NCHW/OIHW", new[] { 2, 12, 6, 5 }, new[] { 9, 12, 3, 3 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }),
        new("2x2 output", new[] { 1, 4, 4, 8 }, new[] { 3, 3, 8, 48 }, new[] { 1, 1 },
            new[] { (0, 0), (0, 0) }, Specs: ("NHWC", "HWIO", "NHWC")),
        // The weight gradient's form: a 3x3 output, the output gradient as the kernel (odd sizes leave partial pieces).
        new("weight gradient VALID 16x20", new[] { 3, 14, 13, 16 }, new[] { 3, 12, 11, 20 }, new[] { 1, 1 },
            new[] { (0, 0), (0, 0) }, Specs: ("CHWN", "IHWO", "HWNC")),
        new("weight gradient 32x16", new[] { 2, 8, 8, 32 }, new[] { 2, 6, 6, 16 }, new[] { 1, 1 },
            new[] { (0, 0), (0, 0) }, Specs: ("CHWN", "IHWO", "HWNC")),
        new("weight gradient SAME 10x33", new[] { 2, 9, 9, 10 }, new[] { 2, 9, 9, 33 }, new[] { 1, 1 },
            new[] { (1, 1), (1, 1) }, Specs: ("CHWN", "IHWO", "HWNC")),
        new("3x3 output NCHW/OIHW", new[] { 8, 9, 7, 7 }, new[] { 12, 9, 5, 5 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }),
    };

    static readonly ConvTests.Case[] Gemm =
    {
        new("stride 2", new[] { 2, 9, 9, 16 }, new[] { 3, 3, 16, 16 }, new[] { 2, 2 },
            new[] { (1, 1), (1, 1) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("rhs dilation", new[] { 2, 9, 9, 16 }, new[] { 3, 3, 16, 16 }, new[] { 1, 1 },
            new[] { (2, 2), (2, 2) }, null, new[] { 2, 2 }, ("NHWC", "HWIO", "NHWC")),
        new("lhs dilation", new[] { 2, 5, 5, 16 }, new[] { 3, 3, 16, 16 }, new[] { 1, 1 },
            new[] { (1, 1), (1, 1) }, new[] { 2, 2 }, null, ("NHWC", "HWIO", "NHWC")),
        new("groups", new[] { 2, 6, 6, 16 }, new[] { 3, 3, 8, 16 }, new[] { 1, 1 },
            new[] { (1, 1), (1, 1) }, Specs: ("NHWC", "HWIO", "NHWC"), G: 2),
        new("one input channel", new[] { 2, 8, 8, 1 }, new[] { 3, 3, 1, 32 }, new[] { 1, 1 },
            new[] { (0, 0), (0, 0) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("weight gradient, few channels", new[] { 2, 9, 9, 4 }, new[] { 2, 9, 9, 33 }, new[] { 1, 1 },
            new[] { (1, 1), (1, 1) }, Specs: ("CHWN", "IHWO", "HWNC")),
        new("transformed kernel too large for the cache", new[] { 1, 4, 4, 260 }, new[] { 3, 3, 260, 260 }, new[] { 1, 1 },
            new[] { (0, 0), (0, 0) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("5x5 kernel", new[] { 2, 8, 8, 16 }, new[] { 5, 5, 16, 16 }, new[] { 1, 1 },
            new[] { (2, 2), (2, 2) }, Specs: ("NHWC", "HWIO", "NHWC")),
    };

    public static IEnumerable<object[]> WinogradCases => Winograd.Select(c => new object[] { c });
    public static IEnumerable<object[]> GemmCases => Gemm.Select(c => new object[] { c });

    static CpuConvPlan<float> PlanOf(ConvTests.Case c)
    {
        var p = c.Params();
        var ls = new Shape(c.Lhs);
        var rs = new Shape(c.Rhs);
        return CpuConvPlan<float>.For(ls, rs, Prims.ConvShape(ls, rs, p), p);
    }

    [Theory, MemberData(nameof(WinogradCases))]
    public void WinogradMatchesReferenceOnAnyThreadCount(ConvTests.Case c)
    {
        Assert.NotNull(PlanOf(c).Winograd);
        using var _ = Config.UseIsa(Isa.Vector512);
        var x = TestData.Tensor(11, c.Lhs, lo: -1, hi: 1);
        var w = TestData.Tensor(12, c.Rhs, lo: -1, hi: 1);
        Check.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, 1e-5, 1e-5, c.Name);
        Tensor r1, r2;
        using (Config.UseThreads(1)) r1 = Prims.ConvGeneralDilated.Bind1(c.Params(), x, w);
        using (Config.UseThreads(2)) r2 = Prims.ConvGeneralDilated.Bind1(c.Params(), x, w);
        Assert.Equal(r1.ToBytes(), r2.ToBytes());
    }

    [Theory, MemberData(nameof(GemmCases))]
    public void OtherShapesUseTheGemmAndMatchReference(ConvTests.Case c)
    {
        Assert.Null(PlanOf(c).Winograd);
        var x = TestData.Tensor(13, c.Lhs, lo: -1, hi: 1);
        var w = TestData.Tensor(14, c.Rhs, lo: -1, hi: 1);
        Check.AgainstReference(Prims.ConvGeneralDilated, c.Params(), new[] { x, w }, 1e-5, 1e-5, c.Name);
    }
}
