namespace Stax.Rules;

internal static partial class RuleRegistry
{
    /// <summary>Splits dimension <paramref name="src"/> into (<paramref name="size1"/>, rest), major first.</summary>
    static Tensor ConvReshapeAxisOutOf(int src, int size1, Tensor x)
    {
        var shape = x.Shape.ToArray().ToList();
        int size2 = shape[src] / size1;
        shape[src] = size2;
        shape.Insert(src, size1);
        return Lax.Reshape(x, new Shape(shape.ToArray()));
    }

    /// <summary>
    /// Merges dimension <paramref name="src"/> into dimension <paramref name="dst"/> as its major part;
    /// <paramref name="dst"/> numbers the dimensions after <paramref name="src"/> is removed.
    /// </summary>
    static Tensor ConvReshapeAxisInto(int src, int dst, Tensor x)
    {
        var perm = Enumerable.Range(0, x.Rank).Where(i => i != src).ToList();
        perm.Insert(dst, src);
        var moved = Lax.Transpose(x, perm.ToArray());
        var shape = x.Shape.ToArray().ToList();
        int s = shape[src];
        shape.RemoveAt(src);
        shape[dst] *= s;
        return Lax.Reshape(moved, new Shape(shape.ToArray()));
    }

    static int ConvDilateShape(int d, int r) => d == 0 ? 0 : 1 + r * (d - 1);

    /// <summary>(batch, feature) swapped: the spec of the transposed operand (JAX's <c>_conv_spec_transpose</c>).</summary>
    static IntTuple ConvSpecTranspose(IntTuple spec)
    {
        var a = spec.ToArray();
        (a[0], a[1]) = (a[1], a[0]);
        return a;
    }

    static int[] ConvSpatial(Shape s, IntTuple spec) => Enumerable.Range(2, spec.Length - 2).Select(i => s[spec[i]]).ToArray();

    /// <summary>Padding of the lhs-transpose convolution (JAX's <c>_conv_general_vjp_lhs_padding</c>);
    /// also used by the reduce_window_sum transpose.</summary>
    static (int Low, int High)[] ConvVjpLhsPadding(int[] inShape, int[] window, IntTuple strides, int[] outShape,
        IntTuple padLow, IntTuple lhsDilation, IntTuple rhsDilation)
    {
        var r = new (int, int)[inShape.Length];
        for (int i = 0; i < inShape.Length; i++)
        {
            int lhsD = ConvDilateShape(inShape[i], lhsDilation[i]);
            int rhsD = ConvDilateShape(window[i], rhsDilation[i]);
            int outD = ConvDilateShape(outShape[i], strides[i]);
            int before = rhsD - padLow[i] - 1;
            int after = lhsD + rhsD - 1 - outD - before;
            r[i] = (before, after);
        }
        return r;
    }

    /// <summary>Padding of the rhs-transpose convolution (JAX's <c>_conv_general_vjp_rhs_padding</c>).</summary>
    static (int Low, int High)[] ConvVjpRhsPadding(int[] inShape, int[] window, IntTuple strides, int[] outShape,
        IntTuple padLow, IntTuple lhsDilation, IntTuple rhsDilation)
    {
        var r = new (int, int)[inShape.Length];
        for (int i = 0; i < inShape.Length; i++)
        {
            int lhsD = ConvDilateShape(inShape[i], lhsDilation[i]);
            int rhsD = ConvDilateShape(window[i], rhsDilation[i]);
            int outD = ConvDilateShape(outShape[i], strides[i]);
            r[i] = (padLow[i], outD - lhsD + rhsD - padLow[i] - 1);
        }
        return r;
    }

    static Tensor ConvBind(Tensor lhs, Tensor rhs, ConvParams p) => Prims.ConvGeneralDilated.Bind1(p, lhs, rhs);

    static ConvParams ConvParamsWith(ConvParams p, IntTuple strides, (int Low, int High)[] pads, IntTuple lhsDil, IntTuple rhsDil,
        ConvDimensionNumbers dn, int g, int b)
        => new(strides, pads.Select(x => x.Low).ToArray(), pads.Select(x => x.High).ToArray(), lhsDil, rhsDil, dn, g, b, null);

    /// <summary>Cotangent of the conv input (JAX's <c>_conv_general_dilated_transpose_lhs</c>).</summary>
    static Tensor ConvTransposeLhs(Tensor g, AbstractValue lhs, Tensor rhs, ConvParams p)
    {
        var dn = p.DimensionNumbers;
        var (lhsSpec, rhsSpec, outSpec) = (dn.LhsSpec, dn.RhsSpec, dn.OutSpec);
        int G = p.FeatureGroupCount, B = p.BatchGroupCount;
        int fgc = G;
        if (G > 1)
        {
            // Move the feature-group factor of the kernel's output features into its input features.
            rhs = ConvReshapeAxisOutOf(rhsSpec[0], G, rhs);
            rhs = ConvReshapeAxisInto(rhsSpec[0], rhsSpec[1], rhs);
        }
        else if (B > 1)
        {
            rhs = ConvReshapeAxisOutOf(rhsSpec[0], B, rhs);
            rhs = ConvReshapeAxisInto(rhsSpec[0], rhsSpec[1], rhs);
            fgc = B;
        }
        var tdn = new ConvDimensionNumbers(outSpec, ConvSpecTranspose(rhsSpec), lhsSpec);
        var rhsSp = ConvSpatial(rhs.Shape, rhsSpec);
        var pads = ConvVjpLhsPadding(ConvSpatial(lhs.Shape, lhsSpec), rhsSp, p.WindowStrides, ConvSpatial(g.Shape, outSpec),
            p.PaddingLow, p.LhsDilation, p.RhsDilation);
        var revd = Lax.Rev(rhs, Enumerable.Range(2, rhsSpec.Length - 2).Select(i => rhsSpec[i]).ToArray());
        g = DotCastTo(g, rhs.DType);
        var outT = ConvBind(g, revd, ConvParamsWith(p, p.LhsDilation, pads, p.WindowStrides, p.RhsDilation, tdn, fgc, 1));
        if (B > 1)
        {
            outT = ConvReshapeAxisOutOf(lhsSpec[1], B, outT);
            outT = ConvReshapeAxisInto(lhsSpec[1], lhsSpec[0], outT);
        }
        return DotCastTo(outT, lhs.DType);
    }

    /// <summary>Cotangent of the conv kernel (JAX's <c>_conv_general_dilated_transpose_rhs</c>).</summary>
    static Tensor ConvTransposeRhs(Tensor g, Tensor lhs, AbstractValue rhs, ConvParams p)
    {
        if (g.Shape.Size == 0) return Np.Zeros(rhs.Shape, rhs.DType);
        var dn = p.DimensionNumbers;
        int G = p.FeatureGroupCount, B = p.BatchGroupCount;
        if (B > 1) { G = B; B = 1; }
        else if (G > 1) { B = G; G = 1; }
        var tdn = new ConvDimensionNumbers(ConvSpecTranspose(dn.LhsSpec), ConvSpecTranspose(dn.OutSpec), ConvSpecTranspose(dn.RhsSpec));
        var pads = ConvVjpRhsPadding(ConvSpatial(lhs.Shape, dn.LhsSpec), ConvSpatial(rhs.Shape, dn.RhsSpec), p.WindowStrides,
            ConvSpatial(g.Shape, dn.OutSpec), p.PaddingLow, p.LhsDilation, p.RhsDilation);
        g = DotCastTo(g, lhs.DType);
        var r = ConvBind(lhs, g, ConvParamsWith(p, p.RhsDilation, pads, p.LhsDilation, p.WindowStrides, tdn, G, B));
        return DotCastTo(r, rhs.DType);
    }

    /// <summary>Batching of conv_general_dilated (JAX's <c>_conv_general_dilated_batch_rule</c>): the
    /// mapped dimension is folded into N (lhs mapped), into O (rhs mapped), or into the feature
    /// groups (both mapped).</summary>
    static (Tensor[], int?[]) ConvBatch(Tensor lhs, Tensor rhs, int? lbd, int? rbd, ConvParams p)
    {
        var dn = p.DimensionNumbers;
        var (lhsSpec, rhsSpec, outSpec) = (dn.LhsSpec, dn.RhsSpec, dn.OutSpec);
        int G = p.FeatureGroupCount, B = p.BatchGroupCount;
        int axisSize = lbd is int l0 ? lhs.Shape[l0] : rbd is int r0 ? rhs.Shape[r0] : -1;
        if (axisSize == 0)
        {
            // An empty mapped axis cannot be split back out of a merged dimension: the result is empty.
            static AbstractValue Unbatched(Tensor t, int? d)
            {
                var dims = t.Shape.ToArray().ToList();
                if (d is int k) dims.RemoveAt(k);
                return new AbstractValue(new Shape(dims.ToArray()), t.DType);
            }
            var outAval = Prims.ConvGeneralDilated.AbstractEval(new[] { Unbatched(lhs, lbd), Unbatched(rhs, rbd) }, p)[0];
            int at = lbd is not null && rbd is null ? outSpec[0] : outSpec[1];
            var shape = outAval.Shape.ToArray().ToList();
            shape.Insert(at, 0);
            return (new[] { Np.Zeros(new Shape(shape.ToArray()), outAval.DType) }, new int?[] { at });
        }
        if (lbd is int lb && rbd is int rb)
        {
            int size = lhs.Shape[lb];
            Tensor newLhs;
            if (B > 1) { newLhs = ConvReshapeAxisInto(lb, lhsSpec[0], lhs); B *= size; }
            else { newLhs = ConvReshapeAxisInto(lb, lhsSpec[1], lhs); G *= size; }
            var newRhs = ConvReshapeAxisInto(rb, rhsSpec[0], rhs);
            var o = ConvBind(newLhs, newRhs, p with { FeatureGroupCount = G, BatchGroupCount = B });
            return (new[] { ConvReshapeAxisOutOf(outSpec[1], size, o) }, new int?[] { outSpec[1] });
        }
        if (lbd is int l)
        {
            int size = lhs.Shape[l];
            Tensor newLhs;
            if (B == 1) newLhs = ConvReshapeAxisInto(l, lhsSpec[0], lhs);
            else
            {
                // Batch groups must stay outermost in N: split them out, fold the mapped dimension
                // into the rest of N, then put the groups back in front.
                newLhs = ConvReshapeAxisOutOf(lhsSpec[0] + (l <= lhsSpec[0] ? 1 : 0), B, lhs);
                newLhs = ConvReshapeAxisInto(l + (lhsSpec[0] < l ? 1 : 0), lhsSpec[0] + 1, newLhs);
                newLhs = ConvReshapeAxisInto(lhsSpec[0], lhsSpec[0], newLhs);
            }
            var o = ConvBind(newLhs, rhs, p);
            return (new[] { ConvReshapeAxisOutOf(outSpec[0], size, o) }, new int?[] { outSpec[0] });
        }
        if (rbd is int r)
        {
            int size = rhs.Shape[r];
            if (G == 1 && B == 1)
            {
                var o = ConvBind(lhs, ConvReshapeAxisInto(r, rhsSpec[0], rhs), p);
                return (new[] { ConvReshapeAxisOutOf(outSpec[1], size, o) }, new int?[] { outSpec[1] });
            }
            // Groups must stay outermost in O: split them out of O, fold the mapped dimension into
            // the rest of O, put the groups back; undo the same on the output.
            int groups = G > 1 ? G : B;
            var newRhs = ConvReshapeAxisOutOf(rhsSpec[0] + (r <= rhsSpec[0] ? 1 : 0), groups, rhs);
            newRhs = ConvReshapeAxisInto(r + (rhsSpec[0] < r ? 1 : 0), rhsSpec[0] + 1, newRhs);
            newRhs = ConvReshapeAxisInto(rhsSpec[0], rhsSpec[0], newRhs);
            var outT = ConvBind(lhs, newRhs, p);
            outT = ConvReshapeAxisOutOf(outSpec[1], groups, outT);
            outT = ConvReshapeAxisOutOf(outSpec[1] + 1, size, outT);
            outT = ConvReshapeAxisInto(outSpec[1], outSpec[1] + 1, outT);
            return (new[] { outT }, new int?[] { outSpec[1] });
        }
        return (new[] { ConvBind(lhs, rhs, p) }, new int?[] { null });
    }

    static void RegisterConv()
    {
        var conv = Prims.ConvGeneralDilated;
        conv.Jvp = (xs, ts, ps) =>
        {
            var p = (ConvParams)ps;
            var y = ConvBind(xs[0], xs[1], p);
            if (!y.DType.IsFloat()) return One(y, null);
            var t = AddTangents(ts[0] is { } ta ? ConvBind(ta, xs[1], p) : null, ts[1] is { } tb ? ConvBind(xs[0], tb, p) : null);
            return One(y, t);
        };
        conv.Transpose = (cts, a, ps) =>
        {
            var p = (ConvParams)ps;
            if (a[0].IsLinear && a[1].IsLinear)
                throw new InvalidOperationException("conv_general_dilated: transpose of a product of two linear values (the program is not linear)");
            if (cts[0] is not { } g) return new Tensor?[2];
            return a[0].IsLinear
                ? new[] { ConvTransposeLhs(g, a[0].Aval, a[1].Known, p), null }
                : new[] { null, ConvTransposeRhs(g, a[0].Known, a[1].Aval, p) };
        };
        conv.Batch = (ctx, xs, ds, ps) => ConvBatch(xs[0], xs[1], ds[0], ds[1], (ConvParams)ps);
    }
}
