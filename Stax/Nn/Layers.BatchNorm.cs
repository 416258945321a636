namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// Batch normalization (stax's <c>BatchNorm</c>, plus running averages for inference).
    /// <para>Parameters <c>{"beta", "gamma"}</c> (each present only when <paramref name="center"/> /
    /// <paramref name="scale"/> is set), shaped like the input's dimensions that are not in
    /// <paramref name="axis"/> — (C,) for NHWC input and the default axes (0, 1, 2), as stax.
    /// State <c>{"mean", "var"}</c> of the same shape: running averages, initially 0 and 1.</para>
    /// <para>Training (<c>training: true</c>): normalises with the batch mean and (biased) variance over
    /// <paramref name="axis"/>, and <c>ApplyWithState</c> returns the updated state
    /// <c>avg ← momentum · avg + (1 − momentum) · batch</c> (plain <see cref="Module.Apply"/> and the
    /// classic stax pair discard it: stax's BatchNorm, which keeps no averages, behaves so).
    /// Inference (<c>training: false</c>): normalises with the running averages, so it needs the state
    /// tree (<c>ApplyWithState</c>); without one it is an error naming the slot.</para>
    /// <para>With <paramref name="axisName"/>, the batch statistics are also averaged over the members of
    /// the named Vmap (<see cref="Transforms.Pmean"/>), so per-example model code under
    /// <c>Vmap(..., axisName: name)</c> normalises over the whole vmapped batch.</para>
    /// </summary>
    /// <param name="axis">Axes to normalise over (null: (0, 1, 2) as stax); negative axes count from the end.</param>
    /// <param name="epsilon">Added to the variance before the square root.</param>
    /// <param name="center">Add a learned offset beta.</param>
    /// <param name="scale">Multiply by a learned gamma.</param>
    /// <param name="betaInit">Initializer of beta (null: zeros).</param>
    /// <param name="gammaInit">Initializer of gamma (null: ones).</param>
    /// <param name="momentum">Decay of the running averages (0.99, as Flax's BatchNorm).</param>
    /// <param name="axisName">Name of a Vmap axis to average batch statistics over, or null.</param>
    public static Module BatchNorm(int[]? axis = null, double epsilon = 1e-5, bool center = true, bool scale = true,
        Initializer? betaInit = null, Initializer? gammaInit = null, double momentum = 0.99, string? axisName = null)
    {
        const string name = "BatchNorm";
        var axes = (int[])(axis ?? new[] { 0, 1, 2 }).Clone();
        if (!(epsilon >= 0)) throw new ArgumentException($"{name}: epsilon must be non-negative, got {epsilon}");
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentException($"{name}: momentum must be in [0, 1], got {momentum}");
        var bi = betaInit ?? Initializers.Zeros();
        var gi = gammaInit ?? Initializers.Ones();

        int[] Normalise(Shape shape, string where)
        {
            var r = LayerAxes.Resolve(axes, shape, where);
            Array.Sort(r);
            return r;
        }

        return Module.Leaf(name,
            (input, key) =>
            {
                var ax = Normalise(input.Shape, Tracing.NameScope.Describe(name));
                var featureShape = new Shape(Enumerable.Range(0, input.Rank).Where(i => !ax.Contains(i)).Select(i => input.Shape[i]).ToArray());
                var dtype = input.DType.IsFloat() ? input.DType : DType.Float32;
                var (k1, k2) = key;
                var p = new Dictionary<string, Tensor>();
                if (center) p["beta"] = bi(k1, featureShape, dtype);
                if (scale) p["gamma"] = gi(k2, featureShape, dtype);
                var state = new Dictionary<string, Tensor>
                {
                    ["mean"] = Tensor.Zeros(featureShape, dtype),
                    ["var"] = Tensor.Ones(featureShape, dtype),
                };
                return (p, state);
            },
            (parameters, x, rng, ctx) =>
            {
                var p = (Dictionary<string, Tensor>)parameters;
                var t = (Tensor)x;
                var ax = Normalise(t.Shape, ctx.Path);
                var featureShape = new Shape(Enumerable.Range(0, t.Rank).Where(i => !ax.Contains(i)).Select(i => t.Shape[i]).ToArray());
                foreach (var need in (center ? new[] { "beta" } : Array.Empty<string>()).Concat(scale ? new[] { "gamma" } : Array.Empty<string>()))
                    if (!p.ContainsKey(need))
                        throw new ArgumentException($"{ctx.Path}: parameter '{need}' is missing (have: {string.Join(", ", p.Keys)})");
                foreach (var (k, v) in p)
                    if (v.Shape != featureShape)
                        throw new ArgumentException($"{ctx.Path}: parameter '{k}' has shape {v.Shape} but an input of shape {t.Shape} normalised over axes {Shape.Format(ax)} needs {featureShape}");
                if (!t.DType.IsFloat()) t = Lax.ConvertElementType(t, DType.Float32);
                Tensor Expand(Tensor v) => ax.Length == 0 ? v : Np.ExpandDims(v, ax);

                var state = ctx.State.Value as Dictionary<string, Tensor>;
                if (state is not null && (!state.TryGetValue("mean", out var sm) || !state.TryGetValue("var", out var sv)
                    || sm.Shape != featureShape || sv.Shape != featureShape))
                    throw new ArgumentException($"{ctx.Path}: state must be {{\"mean\", \"var\"}} of shape {featureShape}");

                if (!ctx.Training && state is null)
                    throw new ArgumentException($"{ctx.Path}: inference (training: false) normalises with the running averages, " +
                        "but no state was given; pass the state from InitializeWithState to ApplyWithState, or use training: true for batch statistics");
                Tensor mean, variance;
                if (!ctx.Training && state is not null)
                {
                    mean = Lax.ConvertElementType(state["mean"], t.DType);
                    variance = Lax.ConvertElementType(state["var"], t.DType);
                }
                else
                {
                    mean = ax.Length == 0 ? t : Np.Mean(t, ax);
                    if (axisName != null) mean = Transforms.Pmean(mean, axisName);
                    var centered = t - Expand(mean);
                    var sq = centered * centered;
                    variance = ax.Length == 0 ? sq : Np.Mean(sq, ax);
                    if (axisName != null) variance = Transforms.Pmean(variance, axisName);
                    if (state is not null)
                    {
                        // Running averages; the state is not differentiated.
                        // Scalars typed like the state (weak C# doubles would round to float32).
                        Tensor Update(Tensor avg, Tensor batch)
                            => Np.FullLike(avg, momentum) * avg
                               + Np.FullLike(avg, 1 - momentum) * Transforms.StopGradient(Lax.ConvertElementType(batch, avg.DType));
                        ctx.State.Value = new Dictionary<string, Tensor>
                        {
                            ["mean"] = Update(state["mean"], mean),
                            ["var"] = Update(state["var"], variance),
                        };
                    }
                }
                var z = (t - Expand(mean)) * Lax.Rsqrt(Expand(variance) + Tensor.Scalar(epsilon, t.DType));
                if (scale) z = Expand(p["gamma"]) * z;
                if (center) z = z + Expand(p["beta"]);
                return z;
            });
    }
}
