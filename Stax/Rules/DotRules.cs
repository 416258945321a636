namespace Stax.Rules;

internal static partial class RuleRegistry
{
    /// <summary>Casts a cotangent to <paramref name="dtype"/> when a preferred element type made it differ.</summary>
    static Tensor DotCastTo(Tensor x, DType dtype) => x.DType == dtype ? x : Lax.ConvertElementType(x, dtype);

    /// <summary>Indices 0..rank-1 that are in neither list, in increasing order (JAX's <c>remaining</c>).</summary>
    static int[] DotRemaining(int rank, IntTuple a, IntTuple b)
        => Enumerable.Range(0, rank).Where(d => !a.Contains(d) && !b.Contains(d)).ToArray();

    /// <summary>The inverse of a permutation (numpy's argsort of a permutation).</summary>
    static int[] DotInversePerm(int[] perm)
    {
        var inv = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inv[perm[i]] = i;
        return inv;
    }

    /// <summary>
    /// Cotangent of the lhs of <c>dot_general(x, y)</c> from the output cotangent <paramref name="g"/>
    /// (as JAX's <c>_dot_general_transpose_lhs</c>): a dot_general of g with y over y's free
    /// dimensions (and the batch dimensions), then a transpose back to x's dimension order. With
    /// <paramref name="swapAns"/> the output's free dimensions of y come before those of x (used for
    /// the rhs, which is the lhs of the swapped problem).
    /// </summary>
    static Tensor DotTransposeLhs(Tensor g, AbstractValue x, Tensor y, IntTuple xContract, IntTuple yContract,
        IntTuple xBatch, IntTuple yBatch, bool swapAns)
    {
        int xRank = x.Rank;
        var xKept = DotRemaining(xRank, xContract, xBatch);
        var yKept = DotRemaining(y.Rank, yContract, yBatch);
        int nb = xBatch.Length;
        // Positions of the batch and y-free dimensions in the output (g).
        var ansBatch = Enumerable.Range(0, nb).ToArray();
        int yStart = swapAns ? nb : nb + xKept.Length;
        var ansY = Enumerable.Range(yStart, yKept.Length).ToArray();
        g = DotCastTo(g, y.DType);
        var d = Lax.DotGeneral(g, y, ansY, yKept, ansBatch, yBatch.ToArray());
        // d's dimensions: batch, x's kept dims (g's remaining dims, in order), then y's contracting
        // dims in increasing order, i.e. x's contracting dims sorted by their partner in y.
        var order = Enumerable.Range(0, yContract.Length).OrderBy(i => yContract[i]).Select(i => xContract[i]);
        var dimsOfD = xBatch.ToArray().Concat(xKept).Concat(order).ToArray();
        var result = Lax.Transpose(d, DotInversePerm(dimsOfD));
        return DotCastTo(result, x.DType);
    }

    static partial void RegisterDot()
    {
        var dot = Prims.DotGeneral;
        dot.Jvp = (xs, ts, ps) =>
        {
            var y = dot.Bind1(ps, xs[0], xs[1]);
            if (!y.DType.IsFloat()) return One(y, null);
            // Bilinear: d(x·y) = dx·y + x·dy.
            var t = AddTangents(ts[0] is { } ta ? dot.Bind1(ps, ta, xs[1]) : null,
                                ts[1] is { } tb ? dot.Bind1(ps, xs[0], tb) : null);
            return One(y, t);
        };
        dot.Transpose = (cts, a, ps) =>
        {
            var p = (DotGeneralParams)ps;
            if (a[0].IsLinear && a[1].IsLinear)
                throw new InvalidOperationException("dot_general: transpose of a product of two linear values (the program is not linear)");
            if (cts[0] is not { } g) return new Tensor?[2];
            if (a[0].IsLinear)
                return new[] { DotTransposeLhs(g, a[0].Aval, a[1].Known, p.LhsContracting, p.RhsContracting, p.LhsBatch, p.RhsBatch, false), null };
            return new[] { null, DotTransposeLhs(g, a[1].Aval, a[0].Known, p.RhsContracting, p.LhsContracting, p.RhsBatch, p.LhsBatch, true) };
        };
        dot.Batch = (ctx, xs, ds, ps) =>
        {
            var p = (DotGeneralParams)ps;
            static int[] Shift(IntTuple dims, int bd) => dims.ToArray().Select(d => d >= bd ? d + 1 : d).ToArray();
            if (ds[0] is int lb && ds[1] is int rb)
            {
                // Both mapped: the mapped dimensions become a new leading pair of batch dimensions.
                var np = p with
                {
                    LhsContracting = Shift(p.LhsContracting, lb), RhsContracting = Shift(p.RhsContracting, rb),
                    LhsBatch = new[] { lb }.Concat(Shift(p.LhsBatch, lb)).ToArray(),
                    RhsBatch = new[] { rb }.Concat(Shift(p.RhsBatch, rb)).ToArray(),
                };
                return (new[] { dot.Bind1(np, xs[0], xs[1]) }, new int?[] { 0 });
            }
            if (ds[0] is int l)
            {
                // Only the lhs mapped: its mapped dimension is one more lhs free dimension.
                var np = p with { LhsContracting = Shift(p.LhsContracting, l), LhsBatch = Shift(p.LhsBatch, l) };
                var free = DotRemaining(xs[0].Rank, np.LhsContracting, np.LhsBatch);
                int outDim = p.LhsBatch.Length + Array.IndexOf(free, l);
                return (new[] { dot.Bind1(np, xs[0], xs[1]) }, new int?[] { outDim });
            }
            if (ds[1] is int r)
            {
                // Only the rhs mapped: one more rhs free dimension, after all lhs free dimensions.
                var np = p with { RhsContracting = Shift(p.RhsContracting, r), RhsBatch = Shift(p.RhsBatch, r) };
                var free = DotRemaining(xs[1].Rank, np.RhsContracting, np.RhsBatch);
                int lhsFree = xs[0].Rank - p.LhsContracting.Length - p.LhsBatch.Length;
                int outDim = p.LhsBatch.Length + lhsFree + Array.IndexOf(free, r);
                return (new[] { dot.Bind1(np, xs[0], xs[1]) }, new int?[] { outDim });
            }
            return (new[] { dot.Bind1(ps, xs[0], xs[1]) }, new int?[] { null });
        };
    }
}
