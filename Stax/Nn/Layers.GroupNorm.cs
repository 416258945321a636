namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// Flax's <c>nn.GroupNorm</c>: the channels (last axis) are split into groups, and each example
    /// is normalised per group over <paramref name="reductionAxes"/> (default every axis but the
    /// first, the batch) and the channels of the group; then <c>· scale + bias</c> per channel
    /// (<c>{"scale", "bias"}</c> of shape (channels,)). Give <paramref name="numGroups"/> (default 32,
    /// as Flax) or <paramref name="groupSize"/> with <c>numGroups: null</c>. ε = 1e-6, fast variance
    /// and float32 statistics as Flax. <c>numGroups: 1</c> is LayerNorm over all non-batch axes;
    /// <c>groupSize: 1</c> is instance norm.
    /// </summary>
    /// <param name="numGroups">Number of channel groups (null when <paramref name="groupSize"/> is given).</param>
    /// <param name="groupSize">Channels per group (instead of <paramref name="numGroups"/>).</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="useBias">Learn and add <c>bias</c>.</param>
    /// <param name="useScale">Learn and multiply by <c>scale</c>.</param>
    /// <param name="biasInit">Initializer of bias (null: zeros).</param>
    /// <param name="scaleInit">Initializer of scale (null: ones).</param>
    /// <param name="reductionAxes">Axes of the statistics, which must include the last (null: all but the first).</param>
    /// <param name="useFastVariance">Use E[x²] − E[x]² (Flax's default) instead of E[(x − mean)²].</param>
    /// <param name="paramDtype">Dtype of the parameters (float32).</param>
    public static Module GroupNorm(int? numGroups = 32, int? groupSize = null, double epsilon = 1e-6, bool useBias = true, bool useScale = true,
        Initializer? biasInit = null, Initializer? scaleInit = null, int[]? reductionAxes = null, bool useFastVariance = true,
        DType paramDtype = DType.Float32)
    {
        const string name = "GroupNorm";
        if (numGroups is null == groupSize is null)
            throw new ArgumentException($"{name}: give either numGroups or groupSize (to give groupSize, pass numGroups: null to override the default 32)");
        if (!(epsilon >= 0)) throw new ArgumentException($"{name}: epsilon must be non-negative, got {epsilon}");
        var bi = biasInit ?? Initializers.Zeros();
        var si = scaleInit ?? Initializers.Ones();
        var red = reductionAxes is null ? null : (int[])reductionAxes.Clone();

        (int[] Red, int Groups) Layout(Shape shape, string where)
        {
            if (shape.Rank < 1) throw new ArgumentException($"{where}: expected an input with a channel axis, got shape {shape}");
            var r = NormalizationMath.Axes(red ?? Enumerable.Range(1, Math.Max(0, shape.Rank - 2)).Append(-1).ToArray(), shape.Rank, "reduction axis", where);
            if (r.Length == 0 || r[^1] != shape.Rank - 1)
                throw new ArgumentException($"{where}: the reduction axes must include the last axis (the channels), got {Shape.Format(red ?? Array.Empty<int>())}");
            int channels = shape[-1];
            int groups;
            if (groupSize is int gs)
            {
                if (gs <= 0 || channels % gs != 0)
                    throw new ArgumentException($"{where}: the number of channels ({channels}) is not a multiple of the group size ({gs})");
                groups = channels / gs;
            }
            else groups = numGroups!.Value;
            if (groups <= 0 || channels % groups != 0)
                throw new ArgumentException($"{where}: the number of groups ({groups}) does not divide the number of channels ({channels})");
            return (r, groups);
        }

        return Module.Leaf(name,
            (input, key) =>
            {
                Layout(input.Shape, Tracing.NameScope.Describe(name));
                var shape = new Shape(input.Shape[-1]);
                return (NormalizationMath.ScaleAndBias(key, shape, useScale ? si : null, useBias ? bi : null, paramDtype), null);
            },
            (parameters, x, rng, ctx) =>
            {
                var p = (Dictionary<string, Tensor>)parameters;
                var t = (Tensor)x;
                if (!t.DType.IsFloat()) throw new ArgumentException($"{ctx.Path}: expected a floating-point input, got {t.DType.Name()}{t.Shape}");
                var (r, groups) = Layout(t.Shape, ctx.Path);
                int channels = t.Shape[-1], size = channels / groups;
                // Statistics over (reduction axes but the last) and the channels of each group.
                var grouped = Np.Reshape(t, t.Shape.ToArray()[..^1].Append(groups).Append(size).ToArray());
                var statAxes = r[..^1].Append(t.Rank).ToArray();
                var (mean, variance) = NormalizationMath.Stats(grouped, statAxes, useMean: true, useFastVariance);
                mean = Np.Repeat(mean, size, axis: -1);
                variance = Np.Repeat(variance, size, axis: -1);
                return NormalizationMath.Normalize(t, mean, variance, r[..^1], new[] { t.Rank - 1 }, epsilon,
                    useScale ? p["scale"] : null, useBias ? p["bias"] : null);
            });
    }
}
