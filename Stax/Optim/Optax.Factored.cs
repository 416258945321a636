namespace Stax.Optim;

// Adafactor's factored second moments (optax/_src/factorized.py, scale_by_factored_rms).
public static partial class Optax
{
    /// <summary>
    /// The two largest axes <c>(d1, d0)</c> of <paramref name="shape"/> (d0 the largest; ties keep axis order, as
    /// numpy's argsort on short arrays), or <c>null</c> when the leaf is not factored: <paramref name="factored"/>
    /// off, rank below 2, or the second-largest axis shorter than <paramref name="minDimSizeToFactor"/>.
    /// </summary>
    static (int D1, int D0)? FactoredDims(Shape shape, bool factored, int minDimSizeToFactor)
    {
        if (!factored || shape.Rank < 2) return null;
        var sorted = Enumerable.Range(0, shape.Rank).OrderBy(i => shape[i]).ToArray();
        if (shape[sorted[^2]] < minDimSizeToFactor) return null;
        return (sorted[^2], sorted[^1]);
    }

    static Shape WithoutAxis(Shape shape, int axis) => new(shape.ToArray().Where((_, i) => i != axis).ToArray());

    /// <summary>
    /// <c>optax.scale_by_factored_rms</c> (Adafactor, Shazeer and Stern 2018). With the decay
    /// <c>β = 1 - (count - stepOffset + 1)^(-decayRate)</c> and <c>G = g² + epsilon</c>: a factored leaf keeps
    /// row and column averages, <c>v_row ← β v_row + (1 - β) mean(G, d0)</c> and
    /// <c>v_col ← β v_col + (1 - β) mean(G, d1)</c>, and its update is
    /// <c>g * (v_row / mean(v_row))^-½ * v_col^-½</c> (broadcast back over d0 and d1); any other leaf keeps
    /// <c>v ← β v + (1 - β) G</c> and gets <c>g * v^-½</c>. Leaves are factored when their two largest
    /// axes are at least <paramref name="minDimSizeToFactor"/> long (see optax). Needs the parameters
    /// (for their shapes). State <see cref="FactoredState"/>.
    /// </summary>
    public static GradientTransformation ScaleByFactoredRms(bool factored = true, double decayRate = 0.8, int stepOffset = 0,
        int minDimSizeToFactor = 128, double epsilon = 1e-30)
    {
        Tensor Placeholder(Tensor p) => Np.Zeros(new Shape(1), p.DType);
        return new(p =>
        {
            var leaves = Tree.Flatten(p);
            Tensor[] rows = new Tensor[leaves.Leaves.Length], cols = new Tensor[rows.Length], vs = new Tensor[rows.Length];
            for (int i = 0; i < rows.Length; i++)
            {
                var x = leaves.Leaves[i];
                if (FactoredDims(x.Shape, factored, minDimSizeToFactor) is (int d1, int d0))
                    (rows[i], cols[i], vs[i]) = (Np.Zeros(WithoutAxis(x.Shape, d0), x.DType), Np.Zeros(WithoutAxis(x.Shape, d1), x.DType), Placeholder(x));
                else
                    (rows[i], cols[i], vs[i]) = (Placeholder(x), Placeholder(x), Np.ZerosLike(x));
            }
            var def = leaves.Def;
            return new FactoredState(Count0(), Tree.Unflatten(def, rows), Tree.Unflatten(def, cols), Tree.Unflatten(def, vs));
        }, (u, s, p) =>
        {
            var st = State<FactoredState>(s, "ScaleByFactoredRms");
            if (p is null && Tree.Leaves(u).Length > 0)
                throw new ArgumentException("ScaleByFactoredRms: the parameters are required; pass them to Update(updates, state, params)");
            var (gl, gd) = Tree.Flatten(u);
            var (pl, pd) = Tree.Flatten(p);
            Tree.CheckSame(pd, gd, "ScaleByFactoredRms", "the parameters", "the updates");
            var rowl = Tree.Leaves(st.VRow);
            var coll = Tree.Leaves(st.VCol);
            var vl = Tree.Leaves(st.V);
            if (rowl.Length != gl.Length || coll.Length != gl.Length || vl.Length != gl.Length)
                throw new ArgumentException($"ScaleByFactoredRms: the state has statistics for {vl.Length} leaves, the updates have {gl.Length}");
            // optax's _decay_rate_pow: 1 - t^(-decayRate), t = count - stepOffset + 1 in float32.
            var t = Lax.ConvertElementType(st.Count - stepOffset + 1, DType.Float32);
            var beta = 1.0 - Np.Power(t, -decayRate);
            var updates = new Tensor[gl.Length];
            Tensor[] rows = new Tensor[gl.Length], cols = new Tensor[gl.Length], vs = new Tensor[gl.Length];
            for (int i = 0; i < gl.Length; i++)
            {
                var (g, x) = (gl[i], pl[i]);
                var dt = x.DType;
                var gSq = g * g + epsilon;
                (rows[i], cols[i], vs[i]) = (Placeholder(x), Placeholder(x), Placeholder(x));
                if (FactoredDims(x.Shape, factored, minDimSizeToFactor) is (int d1, int d0))
                {
                    rows[i] = Lax.ConvertElementType(beta * rowl[i] + (1.0 - beta) * Np.Mean(gSq, d0), dt);
                    cols[i] = Lax.ConvertElementType(beta * coll[i] + (1.0 - beta) * Np.Mean(gSq, d1), dt);
                    int reducedD1 = d1 > d0 ? d1 - 1 : d1;
                    var rowFactor = Np.Power(rows[i] / Np.Mean(rows[i], reducedD1, keepdims: true), -0.5);
                    var colFactor = Np.Power(cols[i], -0.5);
                    updates[i] = g * Np.ExpandDims(rowFactor, d0) * Np.ExpandDims(colFactor, d1);
                }
                else
                {
                    vs[i] = Lax.ConvertElementType(beta * vl[i] + (1.0 - beta) * gSq, dt);
                    updates[i] = g * Np.Power(vs[i], -0.5);
                }
            }
            return (Tree.Unflatten(gd, updates), new FactoredState(Increment(st.Count),
                Tree.Unflatten(gd, rows), Tree.Unflatten(gd, cols), Tree.Unflatten(gd, vs)));
        }, "scale_by_factored_rms");
    }
}
