using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

/// <summary>Transformation rules of dot_general: JVP, transposes for both operands, batching.</summary>
public class DotRuleTests
{
    static Tensor T(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -1, 1);

    static Func<Tensor[], Tensor[]> DotF(int[] lc, int[] rc, int[]? lb = null, int[]? rb = null)
        => xs => new[] { Lax.DotGeneral(xs[0], xs[1], lc, rc, lb, rb) };

    // (name, lhs shape, rhs shape, lhs contracting, rhs contracting, lhs batch, rhs batch)
    public static IEnumerable<object[]> Cases() => new object[][]
    {
        new object[] { "matmul", new[] { 2, 3 }, new[] { 3, 4 }, new[] { 1 }, new[] { 0 }, new int[0], new int[0] },
        new object[] { "vector dot", new[] { 5 }, new[] { 5 }, new[] { 0 }, new[] { 0 }, new int[0], new int[0] },
        new object[] { "outer", new[] { 3 }, new[] { 2 }, new int[0], new int[0], new int[0], new int[0] },
        new object[] { "transposed operands", new[] { 3, 2 }, new[] { 4, 3 }, new[] { 0 }, new[] { 1 }, new int[0], new int[0] },
        new object[] { "two contractions out of order", new[] { 2, 3, 4 }, new[] { 4, 5, 3 }, new[] { 2, 1 }, new[] { 0, 2 }, new int[0], new int[0] },
        new object[] { "batch in the middle", new[] { 3, 2, 4 }, new[] { 4, 2, 5 }, new[] { 2 }, new[] { 0 }, new[] { 1 }, new[] { 1 } },
        new object[] { "two batch dims swapped", new[] { 2, 3, 4, 2 }, new[] { 3, 2, 4 }, new[] { 2 }, new[] { 2 }, new[] { 3, 1 }, new[] { 1, 0 } },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradsOrder2(string name, int[] ls, int[] rs, int[] lc, int[] rc, int[] lb, int[] rb)
    {
        var f = DotF(lc, rc, lb, rb);
        TransformCheck.Grads(f, new[] { T(1, ls), T(2, rs) }, order: 2, name: name);
        // One operand known (a constant): transposes w.r.t. each operand alone.
        var x = T(3, ls); var y = T(4, rs);
        TransformCheck.Grads(xs => f(new[] { xs[0], y }), new[] { x }, order: 2, name: name + " (lhs)");
        TransformCheck.Grads(xs => f(new[] { x, xs[0] }), new[] { y }, order: 2, name: name + " (rhs)");
        TransformCheck.JitMatchesEager(f, new[] { x, y }, name);
        TransformCheck.EvalShapeMatches(f, new[] { x, y });
    }

    static Tensor Batched(int seed, int[] shape, int axis, int size)
    {
        var s = shape.ToList();
        s.Insert(axis, size);
        return T(seed, s.ToArray());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void VmapAllAxes(string name, int[] ls, int[] rs, int[] lc, int[] rc, int[] lb, int[] rb)
    {
        var f = DotF(lc, rc, lb, rb);
        const int n = 3;
        var axesChoices = new (int? L, int? R)[] { (0, 0), (ls.Length, 0), (0, rs.Length), (ls.Length, null), (null, rs.Length), (0, null), (null, 0) };
        if (ls.Length > 1 && rs.Length > 1) axesChoices = axesChoices.Append((1, 1)).ToArray();
        int seed = 10;
        foreach (var (la, ra) in axesChoices)
        {
            var l = la is int a ? Batched(seed++, ls, a, n) : T(seed++, ls);
            var r = ra is int b ? Batched(seed++, rs, b, n) : T(seed++, rs);
            TransformCheck.Vmap(f, new[] { l, r }, new[] { la, ra }, tol: 1e-13, name: $"{name} in_axes=({la}, {ra})");
        }
    }

    [Fact]
    public void VmapOfGradAndGradOfVmap()
    {
        // vmap over the transposed (reverse-mode) program, and differentiation of a vmapped dot.
        var lc = new[] { 0 }; var rc = new[] { 1 };
        Func<Tensor[], Tensor[]> grad = xs => Grad(a => Np.Sum(Lax.Tanh(Lax.DotGeneral(a[0], a[1], lc, rc))), 0, 1)(xs);
        TransformCheck.Vmap(grad, new[] { T(1, 3, 2, 4), T(2, 5, 3) }, new int?[] { 1, null }, tol: 1e-13, name: "vmap(grad)");
        TransformCheck.Vmap(grad, new[] { T(3, 3, 2, 4), T(4, 5, 3, 4) }, new int?[] { 2, 2 }, tol: 1e-13, name: "vmap(grad) both");
        Func<Tensor[], Tensor[]> vm = xs => Vmap(a => new[] { Lax.DotGeneral(a[0], a[1], new[] { 1 }, new[] { 0 }) }, new int?[] { 0, 2 })(xs);
        TransformCheck.Grads(vm, new[] { T(5, 2, 3, 4), T(6, 4, 5, 2) }, order: 2, name: "grad(vmap)");
    }

    [Fact]
    public void IntegerDotHasVmapJitAndNoTangent()
    {
        var x = TestData.Tensor(1, new[] { 3, 4 }, DType.Int32, -5, 5);
        var y = TestData.Tensor(2, new[] { 4, 2, 3 }, DType.Int32, -5, 5);
        Func<Tensor[], Tensor[]> f = xs => new[] { Lax.DotGeneral(xs[0], xs[1], new[] { 1 }, new[] { 0 }) };
        TransformCheck.Vmap(f, new[] { x, y }, new int?[] { null, 2 }, name: "int32");
        TransformCheck.JitMatchesEager(f, new[] { x, y[Idx.All, Idx.All, 0] }, "int32");
        TransformCheck.EvalShapeMatches(f, new[] { x, y[Idx.All, Idx.All, 0] });
    }

    [Fact]
    public void PreferredElementTypeGivesCotangentsOfOperandType()
    {
        var x = TestData.Tensor(1, new[] { 2, 3 }, DType.Float32, -1, 1);
        var y = TestData.Tensor(2, new[] { 3, 4 }, DType.Float32, -1, 1);
        Func<Tensor[], Tensor> f = xs => Np.Sum(Lax.DotGeneral(xs[0], xs[1], new[] { 1 }, new[] { 0 }, preferredElementType: DType.Float64));
        var g = Grad(f, 0, 1)(new[] { x, y });
        Assert.Equal(DType.Float32, g[0].DType);
        Assert.Equal(DType.Float32, g[1].DType);
        // d/dx sum(x y) = row sums of y broadcast over rows of x; d/dy = column sums of x.
        var yv = y.ToDoubleArray(); var xv = x.ToDoubleArray();
        var gx = new double[6]; var gy = new double[12];
        for (int i = 0; i < 2; i++) for (int k = 0; k < 3; k++) for (int j = 0; j < 4; j++) { gx[i * 3 + k] += yv[k * 4 + j]; gy[k * 4 + j] += xv[i * 3 + k]; }
        Check.Close(gx, g[0].ToDoubleArray(), 1e-6, 1e-6, "gx");
        Check.Close(gy, g[1].ToDoubleArray(), 1e-6, 1e-6, "gy");
    }

    [Fact]
    public void MatmulGradientMatchesClosedForm()
    {
        // grad_x sum(x @ y * c) = (c) @ y^T; grad_y = x^T @ c.
        var x = T(1, 2, 3); var y = T(2, 3, 4); var c = T(3, 2, 4);
        var g = Grad(xs => Np.Sum(Lax.Mul(Lax.Dot(xs[0], xs[1]), c)), 0, 1)(new[] { x, y });
        var gx = Lax.DotGeneral(c, y, new[] { 1 }, new[] { 1 });
        var gy = Lax.DotGeneral(x, c, new[] { 0 }, new[] { 0 });
        Check.Close(gx.ToDoubleArray(), g[0].ToDoubleArray(), 1e-14, 1e-14, "gx");
        Check.Close(gy.ToDoubleArray(), g[1].ToDoubleArray(), 1e-14, 1e-14, "gy");
    }
}
