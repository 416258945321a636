using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

/// <summary>Transformation rules of transpose, slice, pad, concatenate, rev, dynamic_slice and dynamic_update_slice.</summary>
public class MovementRuleTests
{
    static Tensor F(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64);
    static Tensor I(int v, DType dtype = DType.Int32) => Tensor.Scalar(v, dtype);

    /// <summary>A random value shaped like <paramref name="x"/> with a batch dimension of 3 inserted at <paramref name="axis"/>.</summary>
    static Tensor BatchedLike(Tensor x, int axis, int seed)
    {
        var shape = x.Shape.ToArray().ToList();
        shape.Insert(axis, 3);
        // Integer operands are start indices: include out-of-range values (clamped) and negatives.
        return x.DType.IsFloat() ? TestData.Tensor(seed, shape.ToArray(), x.DType)
                                 : TestData.Tensor(seed, shape.ToArray(), x.DType, x.DType == DType.Int32 ? -2 : 0, 7);
    }

    /// <summary>Grads (order 2), Vmap for each in_axes choice, Jit and EvalShape.</summary>
    static void All(string name, Func<Tensor[], Tensor[]> f, Tensor[] args, params int?[][] vmapAxes)
    {
        TransformCheck.Grads(f, args, order: 2, name: name);
        int seed = 100;
        foreach (var axes in vmapAxes)
        {
            var bargs = args.Select((a, i) => axes[i] is int ax ? BatchedLike(a, ax, seed++) : a).ToArray();
            TransformCheck.Vmap(f, bargs, axes, name: $"{name} in_axes=({string.Join(", ", axes.Select(a => a?.ToString() ?? "None"))})");
        }
        TransformCheck.JitMatchesEager(f, args, name);
        TransformCheck.EvalShapeMatches(f, args);
    }

    [Fact]
    public void Transpose()
    {
        All("transpose", xs => new[] { Lax.Transpose(xs[0], 2, 0, 1) }, new[] { F(1, 2, 3, 4) },
            new int?[] { 0 }, new int?[] { 1 }, new int?[] { 3 });
        All("transpose*mul", xs => new[] { Lax.Transpose(xs[0] * xs[0], 1, 0) * xs[1] }, new[] { F(2, 2, 3), F(3, 3, 2) },
            new int?[] { 2, null }, new int?[] { null, 1 }, new int?[] { 1, 0 });
    }

    [Fact]
    public void Slice()
    {
        All("slice", xs => new[] { Lax.Slice(xs[0] * xs[0], new[] { 1, 0 }, new[] { 5, 3 }, new[] { 2, 2 }) }, new[] { F(4, 6, 3) },
            new int?[] { 0 }, new int?[] { 1 }, new int?[] { 2 });
        All("slice empty", xs => new[] { Lax.Slice(xs[0], new[] { 2, 1 }, new[] { 2, 3 }) }, new[] { F(5, 4, 3) }, new int?[] { 1 });
        All("slice_in_dim", xs => new[] { Lax.SliceInDim(xs[0], 1, 4, 1, -1) * xs[1] }, new[] { F(6, 2, 5), F(7, 2, 3) },
            new int?[] { 1, null }, new int?[] { null, 2 });
    }

    [Fact]
    public void Pad()
    {
        Func<Tensor[], Tensor[]> f = xs => new[] { Lax.Pad(xs[0] * xs[0], xs[1] * xs[1], (1, 2, 1), (-1, 1, 0), (0, -2, 2)) };
        var args = new[] { F(8, 2, 3, 4), Tensor.Scalar(0.7, DType.Float64) };
        All("pad", f, args, new int?[] { 0, null }, new int?[] { null, 0 }, new int?[] { 2, 0 }, new int?[] { 3, null });
        // Only the operand or only the padding value differentiated.
        All("pad operand", xs => new[] { Lax.Pad(xs[0], Tensor.Scalar(2.0, DType.Float64), (2, -1, 3)) }, new[] { F(9, 3) }, new int?[] { 1 });
        All("pad value", xs => new[] { Lax.Pad(Np.Ones(new Shape(2, 2), DType.Float64), xs[0], (1, 1, 1), (0, 0, 0)) },
            new[] { Tensor.Scalar(1.5, DType.Float64) }, new int?[] { 0 });
        All("pad empty", xs => new[] { Lax.Pad(xs[0], xs[1], (1, 2, 1)) }, new[] { F(10, 0), Tensor.Scalar(0.5, DType.Float64) },
            new int?[] { null, 0 });

        // The padding value's cotangent is the sum over the padded positions.
        var (_, pull) = Vjp(xs => new[] { Lax.Pad(xs[0], xs[1], (1, 1, 1)) }, new[] { F(11, 3), Tensor.Scalar(0, DType.Float64) });
        var g = pull(new[] { Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6, 7 }, 7) });
        Check.Close(new double[] { 2, 4, 6 }, g[0].ToDoubleArray(), 0, 0, "pad operand cotangent");
        Assert.Equal(1 + 3 + 5 + 7, g[1].ToDoubleArray()[0]);
    }

    [Fact]
    public void Concatenate()
    {
        Func<Tensor[], Tensor[]> f = xs => new[] { Lax.Concatenate(new[] { xs[0] * xs[1][.., ..2], xs[1], xs[2] }, 1) };
        var args = new[] { F(12, 3, 2), F(13, 3, 4), F(14, 3, 1) };
        All("concatenate", f, args, new int?[] { 0, 0, 0 }, new int?[] { null, 2, null }, new int?[] { 1, null, 2 }, new int?[] { 2, 1, 0 });
        // Symbolic-zero tangent for a constant operand.
        All("concatenate const", xs => new[] { Lax.Concatenate(new[] { Np.Ones(new Shape(2), DType.Float64), xs[0] }, 0) },
            new[] { F(15, 3) }, new int?[] { 0 });
    }

    [Fact]
    public void Rev()
    {
        All("rev", xs => new[] { Lax.Rev(xs[0] * xs[1], 0, 2) }, new[] { F(16, 2, 3, 4), F(17, 2, 3, 4) },
            new int?[] { 0, null }, new int?[] { 1, 3 }, new int?[] { null, 2 });
    }

    [Fact]
    public void DynamicSlice()
    {
        Func<Tensor[], Tensor[]> f = xs => new[] { Lax.DynamicSlice(xs[0] * xs[0], new[] { xs[1], xs[2] }, new[] { 2, 3 }) };
        var args = new[] { F(18, 4, 5), I(1), I(4) }; // 4 is clamped to 2
        All("dynamic_slice", f, args,
            new int?[] { 0, null, null }, new int?[] { 2, null, null },   // operand only
            new int?[] { null, 0, null }, new int?[] { null, 0, 0 },      // indices only
            new int?[] { 1, 0, null }, new int?[] { 2, 0, 0 });           // both
        // uint32 indices.
        All("dynamic_slice u32", xs => new[] { Lax.DynamicSlice(xs[0], new[] { xs[1] }, new[] { 3 }) },
            new[] { F(19, 5), I(1, DType.UInt32) }, new int?[] { null, 0 }, new int?[] { 1, 0 });
        // Vmap of the gradient: the transpose (dynamic_update_slice) with batched indices.
        Func<Tensor[], Tensor[]> grad = xs => Vjp(ys => f(new[] { ys[0], xs[1], xs[2] }), new[] { xs[0] }).Vjp(new[] { F(20, 2, 3) });
        TransformCheck.Vmap(grad, new[] { F(21, 3, 4, 5), TestData.Tensor(22, new[] { 3 }, DType.Int32, -1, 5), I(2) },
            new int?[] { 0, 0, null }, name: "vmap(grad(dynamic_slice))");
        TransformCheck.Vmap(grad, new[] { F(23, 4, 5), TestData.Tensor(24, new[] { 3 }, DType.Int32, -1, 5), TestData.Tensor(25, new[] { 3 }, DType.Int32, 0, 4) },
            new int?[] { null, 0, 0 }, name: "vmap(grad(dynamic_slice)) indices only");
    }

    [Fact]
    public void DynamicUpdateSlice()
    {
        Func<Tensor[], Tensor[]> f = xs => new[] { Lax.DynamicUpdateSlice(xs[0] * xs[0], xs[1] * xs[1], new[] { xs[2], xs[3] }) };
        var args = new[] { F(26, 4, 5), F(27, 2, 3), I(-1), I(1) };
        All("dynamic_update_slice", f, args,
            new int?[] { 0, null, null, null }, new int?[] { null, 2, null, null }, new int?[] { 1, 0, null, null },
            new int?[] { null, null, 0, null }, new int?[] { 2, null, 0, 0 }, new int?[] { 0, 1, null, 0 });
        // Only the update differentiated.
        All("dynamic_update_slice update", xs => new[] { Lax.DynamicUpdateSlice(Np.Zeros(new Shape(5), DType.Float64), xs[0], new[] { xs[1] }) },
            new[] { F(28, 2), I(2) }, new int?[] { 0, 0 });
        // Vmap of the gradient: the transposes (dynamic_slice and dynamic_update_slice) with batched indices.
        Func<Tensor[], Tensor[]> grad = xs => Vjp(ys => f(new[] { ys[0], ys[1], xs[2], xs[3] }), new[] { xs[0], xs[1] }).Vjp(new[] { F(29, 4, 5) });
        TransformCheck.Vmap(grad, new[] { F(30, 4, 5), F(31, 2, 3), TestData.Tensor(32, new[] { 3 }, DType.Int32, -1, 5), I(1) },
            new int?[] { null, null, 0, null }, name: "vmap(grad(dynamic_update_slice))");
    }

    [Fact]
    public void ComposedMovementUnderJitGradVmap()
    {
        // A function that uses every movement primitive; its gradient is checked under jit and vmap.
        Func<Tensor[], Tensor[]> f = xs =>
        {
            var x = xs[0];
            var t = Lax.Transpose(x, 1, 0);                                               // [4, 3]
            var p = Lax.Pad(t, Tensor.Scalar(0.5, DType.Float64), (1, 0, 1), (0, 1, 0));  // [8, 4]
            var s = Lax.Slice(p, new[] { 0, 1 }, new[] { 8, 4 }, new[] { 2, 1 });         // [4, 3]
            var c = Lax.Concatenate(new[] { s, Lax.Rev(t, 0) }, 1);                        // [4, 6]
            var d = Lax.DynamicSlice(c, new[] { I(1), I(2) }, new[] { 2, 3 });
            return new[] { Lax.ReduceSum(Lax.DynamicUpdateSlice(c * c, d, new[] { I(0), I(3) }), 0, 1) };
        };
        var x0 = F(33, 3, 4);
        var g = Grad(xs => f(xs)[0])(new[] { x0 });
        var gJit = Jit(xs => Grad(ys => f(ys)[0])(xs)).Call(new[] { x0 });
        Assert.Equal(g[0].ToBytes(), gJit[0].ToBytes());
        TransformCheck.Grads(f, new[] { x0 }, order: 2, name: "composed");
        TransformCheck.Vmap(xs => Grad(ys => f(ys)[0])(xs), new[] { F(34, 3, 4, 2) }, new int?[] { 2 }, tol: 1e-12, name: "vmap(grad(composed))");
    }
}
