using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

/// <summary>Transformation rules of conv_general_dilated: JVP, both transposes, batching.</summary>
public class ConvRuleTests
{
    static Tensor T(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -1, 1);

    sealed record Case(string Name, int[] Lhs, int[] Rhs, Func<Tensor, Tensor, Tensor> Conv);

    static (int, int)[] P(params (int, int)[] p) => p;

    static readonly Case[] Cases =
    {
        new("basic NCHW", new[] { 2, 3, 5, 4 }, new[] { 4, 3, 2, 3 },
            (x, w) => Lax.ConvGeneralDilated(x, w, new[] { 1, 1 }, P((0, 0), (0, 0)))),
        new("strides and padding", new[] { 2, 2, 7, 6 }, new[] { 3, 2, 3, 2 },
            (x, w) => Lax.ConvGeneralDilated(x, w, new[] { 2, 3 }, P((1, 2), (0, 1)))),
        new("negative padding", new[] { 1, 2, 6, 5 }, new[] { 2, 2, 2, 2 },
            (x, w) => Lax.ConvGeneralDilated(x, w, new[] { 1, 2 }, P((-1, 1), (1, -2)))),
        new("lhs dilation", new[] { 1, 2, 4, 3 }, new[] { 2, 2, 2, 2 },
            (x, w) => Lax.ConvGeneralDilated(x, w, new[] { 1, 2 }, P((1, 1), (0, 2)), lhsDilation: new[] { 2, 3 })),
        new("rhs dilation", new[] { 2, 2, 7, 6 }, new[] { 2, 2, 2, 3 },
            (x, w) => Lax.ConvGeneralDilated(x, w, new[] { 2, 1 }, P((0, 1), (1, 0)), rhsDilation: new[] { 3, 2 })),
        new("feature groups", new[] { 2, 4, 5, 4 }, new[] { 6, 2, 3, 2 },
            (x, w) => Lax.ConvGeneralDilated(x, w, new[] { 1, 2 }, P((1, 0), (0, 1)), featureGroupCount: 2)),
        new("depthwise", new[] { 2, 3, 5, 5 }, new[] { 6, 1, 3, 3 },
            (x, w) => Lax.ConvGeneralDilated(x, w, new[] { 2, 2 }, P((1, 1), (1, 1)), featureGroupCount: 3)),
        new("batch groups", new[] { 4, 3, 5, 4 }, new[] { 6, 3, 2, 2 },
            (x, w) => Lax.ConvGeneralDilated(x, w, new[] { 1, 1 }, P((0, 1), (1, 0)), batchGroupCount: 2)),
        new("NHWC/HWIO SAME stride 2", new[] { 2, 6, 5, 3 }, new[] { 3, 2, 3, 4 },
            (x, w) => Lax.ConvWithGeneralDimensionNumbers(x, w, new[] { 2, 1 }, "SAME", ("NHWC", "HWIO", "NHWC"))),
        new("NHWC/HWIO depthwise dilated", new[] { 1, 5, 6, 4 }, new[] { 3, 2, 1, 8 },
            (x, w) => Lax.ConvWithGeneralDimensionNumbers(x, w, new[] { 1, 2 }, "VALID", ("NHWC", "HWIO", "NHWC"),
                rhsDilation: new[] { 2, 1 }, featureGroupCount: 4)),
        new("1D NWC/WIO", new[] { 2, 9, 2 }, new[] { 3, 2, 3 },
            (x, w) => Lax.ConvWithGeneralDimensionNumbers(x, w, new[] { 2 }, P((2, 1)), ("NWC", "WIO", "NWC"), lhsDilation: new[] { 2 })),
        new("mixed specs NCHW/IHWO/NHWC groups", new[] { 2, 4, 4, 5 }, new[] { 2, 2, 3, 4 },
            (x, w) => Lax.ConvWithGeneralDimensionNumbers(x, w, new[] { 1, 2 }, P((1, 0), (2, 1)), ("NCHW", "IHWO", "NHWC"), featureGroupCount: 2)),
    };

    public static IEnumerable<object[]> CaseIds() => Cases.Select((c, i) => new object[] { i, c.Name });

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void GradsOrder2(int id, string name)
    {
        var c = Cases[id];
        Func<Tensor[], Tensor[]> f = xs => new[] { c.Conv(xs[0], xs[1]) };
        var x = T(1, c.Lhs); var w = T(2, c.Rhs);
        TransformCheck.Grads(f, new[] { x, w }, order: 2, name: name);
        TransformCheck.Grads(xs => f(new[] { xs[0], w }), new[] { x }, order: 2, name: name + " (lhs)");
        TransformCheck.Grads(xs => f(new[] { x, xs[0] }), new[] { w }, order: 2, name: name + " (rhs)");
        TransformCheck.JitMatchesEager(f, new[] { x, w }, name);
        TransformCheck.EvalShapeMatches(f, new[] { x, w });
    }

    static Tensor Batched(int seed, int[] shape, int axis, int size)
    {
        var s = shape.ToList();
        s.Insert(axis, size);
        return T(seed, s.ToArray());
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Vmap(int id, string name)
    {
        var c = Cases[id];
        Func<Tensor[], Tensor[]> f = xs => new[] { c.Conv(xs[0], xs[1]) };
        int rank = c.Lhs.Length;
        var choices = new (int? L, int? R)[] { (0, null), (rank, null), (null, 0), (null, 2), (rank, 0), (1, rank) };
        int seed = 20;
        foreach (var (la, ra) in choices)
        {
            var l = la is int a ? Batched(seed++, c.Lhs, a, 3) : T(seed++, c.Lhs);
            var r = ra is int b ? Batched(seed++, c.Rhs, b, 3) : T(seed++, c.Rhs);
            TransformCheck.Vmap(f, new[] { l, r }, new[] { la, ra }, tol: 1e-12, name: $"{name} in_axes=({la}, {ra})");
        }
        // vmap of the reverse-mode derivative: batches the transposed convolutions too.
        Func<Tensor[], Tensor[]> grad = xs => Grad(a => Np.Sum(Lax.Tanh(c.Conv(a[0], a[1]))), 0, 1)(xs);
        TransformCheck.Vmap(grad, new[] { Batched(40, c.Lhs, 1, 2), T(41, c.Rhs) }, new int?[] { 1, null }, tol: 1e-12, name: name + " vmap(grad) lhs");
        TransformCheck.Vmap(grad, new[] { T(42, c.Lhs), Batched(43, c.Rhs, rank, 2) }, new int?[] { null, rank }, tol: 1e-12, name: name + " vmap(grad) rhs");
        TransformCheck.Vmap(grad, new[] { Batched(44, c.Lhs, 0, 2), Batched(45, c.Rhs, 1, 2) }, new int?[] { 0, 1 }, tol: 1e-12, name: name + " vmap(grad) both");
    }

    [Fact]
    public void VmapOverAnEmptyAxis()
    {
        var c = Cases[5]; // feature groups
        Func<Tensor[], Tensor[]> f = xs => new[] { c.Conv(xs[0], xs[1]) };
        var expected = f(new[] { T(1, c.Lhs), T(2, c.Rhs) })[0].Shape.ToArray();
        foreach (var (la, ra) in new (int?, int?)[] { (0, null), (null, 0), (0, 0) })
        {
            var l = la is int a ? Batched(3, c.Lhs, a, 0) : T(3, c.Lhs);
            var r = ra is int b ? Batched(4, c.Rhs, b, 0) : T(4, c.Rhs);
            var got = Transforms.Vmap(f, new[] { la, ra })(new[] { l, r })[0];
            Assert.Equal(new Shape(new[] { 0 }.Concat(expected).ToArray()), got.Shape);
        }
    }

    [Fact]
    public void GradOfOneByOneConvIsAMatmulGradient()
    {
        // A 1x1 convolution is a matmul over channels: compare with the dot_general gradient.
        var x = T(1, 2, 3, 4, 5); var w = T(2, 6, 3, 1, 1); var ct = T(3, 2, 6, 4, 5);
        var g = Grad(a => Np.Sum(Lax.Mul(Lax.ConvGeneralDilated(a[0], a[1], new[] { 1, 1 }, P((0, 0), (0, 0))), ct)), 0, 1)(new[] { x, w });
        var w2 = Lax.Reshape(w, new Shape(6, 3));
        // grad_x[n,c,h,w] = sum_o ct[n,o,h,w] w[o,c]; grad_w[o,c] = sum_{n,h,w} ct[n,o,h,w] x[n,c,h,w].
        var gx = Lax.Transpose(Lax.DotGeneral(ct, w2, new[] { 1 }, new[] { 0 }), 0, 3, 1, 2);
        var gw = Lax.DotGeneral(ct, x, new[] { 0, 2, 3 }, new[] { 0, 2, 3 });
        Check.Close(gx.ToDoubleArray(), g[0].ToDoubleArray(), 1e-13, 1e-13, "grad x");
        Check.Close(gw.ToDoubleArray(), g[1].ToDoubleArray(), 1e-13, 1e-13, "grad w");
    }

    [Fact]
    public void Float32ConvGradientsKeepDType()
    {
        var x = TestData.Tensor(1, new[] { 1, 2, 4, 4 }, DType.Float32, -1, 1);
        var w = TestData.Tensor(2, new[] { 3, 2, 2, 2 }, DType.Float32, -1, 1);
        Func<Tensor[], Tensor> f = a => Np.Sum(Lax.ConvGeneralDilated(a[0], a[1], new[] { 2, 1 }, P((1, 0), (0, 1)), preferredElementType: DType.Float64));
        var g = Grad(f, 0, 1)(new[] { x, w });
        Assert.Equal(x.Aval with { Weak = false }, g[0].Aval with { Weak = false });
        Assert.Equal(w.Aval with { Weak = false }, g[1].Aval with { Weak = false });
        var g64 = Grad(a => Np.Sum(Lax.ConvGeneralDilated(a[0], a[1], new[] { 2, 1 }, P((1, 0), (0, 1)))), 0, 1)(
            new[] { Lax.ConvertElementType(x, DType.Float64), Lax.ConvertElementType(w, DType.Float64) });
        Check.Close(g64[0].ToDoubleArray(), g[0].ToDoubleArray(), 1e-5, 1e-5, "grad x");
        Check.Close(g64[1].ToDoubleArray(), g[1].ToDoubleArray(), 1e-5, 1e-5, "grad w");
    }
}
