using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;

namespace Stax.Tests.Conformance;

/// <summary>
/// Max pooling's gradient (select_and_scatter_add) on channels-last operands with disjoint windows,
/// where each window writes its elements instead of scatter-adding into a cleared result: windows
/// that tile the operand exactly and windows that leave rows and columns uncovered, channel counts
/// with a vector tail, NaN operands, and a -0 source that the scatter-add into zeros makes +0.
/// </summary>
public class PoolingChannelsLastTests
{
    [Theory, MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void DisjointWindowsMatchReferenceOnAnyThreadCount(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        int seed = 500;
        foreach (var (shape, win) in new[]
                 {
                     (new[] { 2, 8, 6, 19 }, 2), (new[] { 2, 7, 9, 19 }, 2),
                     (new[] { 1, 9, 9, 8 }, 3), (new[] { 3, 4, 4, 64 }, 2),
                 })
            foreach (var sel in new[] { Prims.Ge, Prims.Le })
            {
                var p = new SelectAndScatterAddParams(sel, new[] { 1, win, win, 1 }, new[] { 1, win, win, 1 },
                                                      new int[4], new int[4]);
                var operand = TestData.Tensor(seed++, shape, specials: true);
                var outShape = Windows.OutputShape("t", operand.Shape, p.WindowDimensions, p.WindowStrides,
                                                   p.PaddingLow, p.PaddingHigh, Windows.Ones(4), Windows.Ones(4));
                var source = TestData.Tensor(seed++, outShape.ToArray());
                Check.AgainstReference(Prims.SelectAndScatterAdd, p, new[] { source, operand }, 0, 0, $"{p} {operand.Aval}");
                byte[] Run(int threads)
                {
                    using (Config.UseThreads(threads)) return Prims.SelectAndScatterAdd.Bind1(p, source, operand).ToBytes();
                }
                Assert.Equal(Run(1), Run(2));
            }
    }

    [Fact]
    public void NegativeZeroSourceBecomesPositiveZero()
    {
        var p = new SelectAndScatterAddParams(Prims.Ge, new[] { 1, 2, 2, 1 }, new[] { 1, 2, 2, 1 }, new int[4], new int[4]);
        var operand = Tensor.FromArray(Enumerable.Range(0, 2 * 2 * 2 * 9).Select(i => (float)(i % 7)).ToArray(), 2, 2, 2, 9);
        var source = Tensor.FromArray(Enumerable.Repeat(-0f, 2 * 9).ToArray(), 2, 1, 1, 9);
        var r = Prims.SelectAndScatterAdd.Bind1(p, source, operand).ToArray<float>();
        Assert.All(r, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
    }
}
