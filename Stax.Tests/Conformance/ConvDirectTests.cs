using Stax.Backends.Cpu;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Conformance;

/// <summary>
/// The CPU's direct convolution for few input taps (a first layer on grey or RGB images) against
/// the float64 reference: odd sizes, padding (negative too), strides, kernel dilation, output
/// channel counts with a vector tail, and layouts other than NHWC/HWIO.
/// </summary>
public class ConvDirectTests
{
    static readonly ConvTests.Case[] Direct =
    {
        new("grey 3x3 VALID 32", new[] { 3, 11, 9, 1 }, new[] { 3, 3, 1, 32 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("RGB 3x3 SAME 10", new[] { 2, 7, 6, 3 }, new[] { 3, 3, 3, 10 }, new[] { 1, 1 }, new[] { (1, 1), (1, 1) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("strided, padded 70", new[] { 2, 9, 10, 2 }, new[] { 3, 2, 2, 70 }, new[] { 2, 3 }, new[] { (1, 2), (0, 1) }, Specs: ("NHWC", "HWIO", "NHWC")),
        new("dilated, negative padding 16", new[] { 1, 12, 11, 1 }, new[] { 3, 3, 1, 16 }, new[] { 1, 1 }, new[] { (-1, 1), (2, -1) }, null, new[] { 2, 3 }, ("NHWC", "HWIO", "NHWC")),
        new("NCHW/OIHW 5x5 grey 8", new[] { 2, 1, 9, 8 }, new[] { 8, 1, 5, 5 }, new[] { 1, 1 }, new[] { (2, 2), (2, 2) }),
        new("1 output column", new[] { 2, 5, 3, 1 }, new[] { 3, 3, 1, 40 }, new[] { 1, 1 }, new[] { (0, 0), (0, 0) }, Specs: ("NHWC", "HWIO", "NHWC")),
    };

    public static IEnumerable<object[]> Cases => Direct.Select(c => new object[] { c });

    [Theory, MemberData(nameof(Cases))]
    public void DirectMatchesReferenceOnAnyThreadCount(ConvTests.Case c)
    {
        var p = c.Params();
        var ls = new Shape(c.Lhs);
        var rs = new Shape(c.Rhs);
        Assert.True(CpuConvPlan<float>.For(ls, rs, Prims.ConvShape(ls, rs, p), p).DirectFewChannels);
        using var _ = Config.UseIsa(Isa.Vector512);
        var x = TestData.Tensor(21, c.Lhs);
        var w = TestData.Tensor(22, c.Rhs);
        Check.AgainstReference(Prims.ConvGeneralDilated, p, new[] { x, w }, 1e-5, 1e-5, c.Name);
        Tensor r1, r2;
        using (Config.UseThreads(1)) r1 = Prims.ConvGeneralDilated.Bind1(p, x, w);
        using (Config.UseThreads(2)) r2 = Prims.ConvGeneralDilated.Bind1(p, x, w);
        Assert.Equal(r1.ToBytes(), r2.ToBytes());
    }
}
