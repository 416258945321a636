using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;
using static Stax.Transforms;

namespace Stax.Tests.RandomTests;

/// <summary>The threefry2x32 primitive: known answers, kernel against the reference, rules.</summary>
public class ThreefryTests
{
    static Tensor U(params uint[] v) => Tensor.FromArray(v, v.Length);

    static Tensor U32(int seed, int[] shape) => TestData.Tensor(seed, shape, DType.UInt32, 0, 0);

    // Random123's published known-answer vectors for Threefry-2x32, 20 rounds.
    public static IEnumerable<object[]> KnownAnswers => new[]
    {
        new object[] { 0u, 0u, 0u, 0u, 0x6b200159u, 0x99ba4efeu },
        new object[] { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x1cb996fcu, 0xbb002be7u },
        new object[] { 0x13198a2eu, 0x03707344u, 0x243f6a88u, 0x85a308d3u, 0xc4923a9cu, 0x483df7a0u },
    };

    [Theory]
    [MemberData(nameof(KnownAnswers))]
    public void Random123KnownAnswers(uint k0, uint k1, uint x0, uint x1, uint y0, uint y1)
    {
        Assert.Equal((y0, y1), Ref.Threefry2x32(k0, k1, x0, x1));
        foreach (var isa in Config.AvailableIsas)
            using (Config.UseIsa(isa))
            {
                // 37 copies so every vector width and the scalar tail see the vector.
                var n = 37;
                var (a, b) = Lax.Threefry2x32(
                    U(Enumerable.Repeat(k0, n).ToArray()), U(Enumerable.Repeat(k1, n).ToArray()),
                    U(Enumerable.Repeat(x0, n).ToArray()), U(Enumerable.Repeat(x1, n).ToArray()));
                Assert.All(a.ToArray<uint>(), v => Assert.Equal(y0, v));
                Assert.All(b.ToArray<uint>(), v => Assert.Equal(y1, v));
            }
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void MatchesReference(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        int seed = 0;
        foreach (var shape in TestData.Shapes.Append(TestData.Large))
        {
            var ins = Enumerable.Range(0, 4).Select(i => U32(++seed, shape)).ToArray();
            Check.AgainstReference(Prims.Threefry2x32, Params.None, ins, context: $"threefry2x32 {Shape.Format(shape)} {isa}");
        }
    }

    [Fact]
    public void ThreadCountAndIsaDoNotChangeBits()
    {
        var shape = new[] { 3 * 65536 + 5 };
        var ins = Enumerable.Range(0, 4).Select(i => U32(100 + i, shape)).ToArray();
        byte[]? first = null;
        foreach (var isa in Config.AvailableIsas)
            foreach (var threads in new[] { 1, 2 })
                using (Config.UseIsa(isa))
                using (Config.UseThreads(threads))
                {
                    var r = Prims.Threefry2x32.Bind(Params.None, ins);
                    var bytes = r[0].ToBytes().Concat(r[1].ToBytes()).ToArray();
                    if (first is null) first = bytes;
                    else Assert.True(first.AsSpan().SequenceEqual(bytes), $"threefry2x32 differs on {isa} with {threads} threads");
                }
    }

    [Fact]
    public void LaxBroadcasts()
    {
        var x1 = U32(7, new[] { 3, 4 });
        var (a, b) = Lax.Threefry2x32(Tensor.Scalar(5, DType.UInt32), Tensor.Scalar(9, DType.UInt32), U(0, 1, 2, 3), x1);
        var xs = x1.ToArray<uint>();
        var ra = a.ToArray<uint>();
        var rb = b.ToArray<uint>();
        for (int i = 0; i < 12; i++)
            Assert.Equal(Ref.Threefry2x32(5, 9, (uint)(i % 4), xs[i]), (ra[i], rb[i]));
    }

    [Fact]
    public void BadInputs()
    {
        var u = U(1, 2, 3);
        Check.Throws<ArgumentException>(() => Prims.Threefry2x32.Bind(Params.None, u, u, u, Tensor.FromArray(new[] { 1, 2, 3 }, 3)), "threefry2x32", "x1", "uint32", "int32");
        Check.Throws<ArgumentException>(() => Prims.Threefry2x32.Bind(Params.None, u, u, u, U(1, 2)), "threefry2x32", "shapes must be equal");
        Check.Throws<ArgumentException>(() => Prims.Threefry2x32.Bind(Params.None, u, u, u), "threefry2x32", "4 operands");
        Check.Throws<ArgumentException>(() => Lax.Threefry2x32(u, u, u, Tensor.FromArray(new[] { 1f, 2, 3 }, 3)), "threefry2x32", "x1", "float32");
        Check.Throws<ArgumentException>(() => Lax.Threefry2x32(u, u, u, U(1, 2)), "threefry2x32", "broadcast");
    }

    static Tensor[] F(Tensor[] xs) { var (a, b) = Lax.Threefry2x32(xs[0], xs[1], xs[2], xs[3]); return new[] { a, b }; }

    [Fact]
    public void Rules()
    {
        var ins = Enumerable.Range(0, 4).Select(i => U32(200 + i, new[] { 3, 5 })).ToArray();
        TransformCheck.JitMatchesEager(F, ins, "threefry2x32");
        TransformCheck.EvalShapeMatches(F, ins);
        var b0 = Enumerable.Range(0, 4).Select(i => U32(300 + i, new[] { 4, 3, 5 })).ToArray();
        TransformCheck.Vmap(F, b0, new int?[] { 0, 0, 0, 0 }, name: "threefry vmap all 0");
        var mixed = new[] { U32(310, new[] { 3, 4, 5 }), ins[1], U32(311, new[] { 3, 5, 4 }), ins[3] };
        TransformCheck.Vmap(F, mixed, new int?[] { 1, null, 2, null }, name: "threefry vmap mid/last/unmapped");
        TransformCheck.Vmap(F, new[] { ins[0], ins[1], U32(312, new[] { 3, 5, 2 }), ins[3] }, new int?[] { null, null, 2, null }, name: "threefry vmap one operand");
        // Integer outputs have no tangent: a float function mixing in random bits differentiates fine.
        var x = TestData.Tensor(1, new[] { 3, 5 }, DType.Float64, -1, 1);
        Func<Tensor[], Tensor[]> g = xs =>
        {
            var (a, _) = Lax.Threefry2x32(xs[1], xs[1], xs[1], xs[1]);
            var f = Lax.ConvertElementType(Lax.ShiftRightLogical(a, Np.FullLike(a, 28)), DType.Float64);
            return new[] { Lax.Mul(Lax.Sin(xs[0]), f) };
        };
        TransformCheck.Grads(g, new[] { x, ins[0] }, order: 2, name: "float times random bits");
        var (_, t) = Jvp(xs => F(xs), ins, ins);
        Assert.All(t, tt => Assert.All(tt.ToArray<uint>(), v => Assert.Equal(0u, v)));
    }
}
