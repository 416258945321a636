namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// Flax's <c>nn.DenseGeneral</c>: a linear map that contracts the input axes <paramref name="axis"/>
    /// (default the last) and produces the output dimensions <paramref name="features"/>. Parameters
    /// <c>{"kernel": (input sizes at axis...) + features, "bias": features}</c>, Flax's names and
    /// defaults (LeCun-normal kernel, zero bias). As Flax, the initializers see the kernel flattened
    /// to (product of the contracted sizes, product of the features), so fans are those of the
    /// equivalent matrix; the output is the input's other axes (in order) followed by the features.
    /// Input, kernel and bias are promoted to a common dtype (integer inputs compute in float).
    /// Multi-head attention projects with it: features (heads, head size) on the last axis, and back
    /// with axes (-2, -1).
    /// </summary>
    /// <param name="features">Output dimensions (one or more).</param>
    /// <param name="axis">Input axes to contract (negative count from the end); null: the last.</param>
    /// <param name="useBias">Add a learned bias.</param>
    /// <param name="kernelInit">Kernel initializer (null: LeCun normal, Flax's default).</param>
    /// <param name="biasInit">Bias initializer (null: zeros).</param>
    /// <param name="paramDtype">Dtype of the parameters (Flax's <c>param_dtype</c>, float32).</param>
    public static Module DenseGeneral(int[] features, int[]? axis = null, bool useBias = true,
        Initializer? kernelInit = null, Initializer? biasInit = null, DType paramDtype = DType.Float32)
    {
        const string name = "DenseGeneral";
        ArgumentNullException.ThrowIfNull(features);
        if (features.Length == 0 || features.Any(f => f <= 0))
            throw new ArgumentException($"{name}: features must be one or more positive sizes, got {Shape.Format(features)}");
        var feats = (int[])features.Clone();
        var axes = (int[])(axis ?? new[] { -1 }).Clone();
        if (axes.Length == 0) throw new ArgumentException($"{name}: axis must name at least one input axis");
        var ki = kernelInit ?? Initializers.LecunNormal();
        var bi = biasInit ?? Initializers.Zeros();
        long featureCount = feats.Aggregate(1L, (a, b) => a * b);

        int[] Normalise(Shape shape, string where) => LayerAxes.Resolve(axes, shape, where);

        return Module.Leaf(name,
            (input, key) =>
            {
                var ax = Normalise(input.Shape, Tracing.NameScope.Describe(name));
                var inDims = ax.Select(a => input.Shape[a]).ToArray();
                long inCount = inDims.Aggregate(1L, (a, b) => a * b);
                var (k1, k2) = key;
                // Flax initializes the flattened (in, out) matrix, then reshapes.
                var kernel = Np.Reshape(ki(k1, new Shape(checked((int)inCount), checked((int)featureCount)), paramDtype), inDims.Concat(feats).ToArray());
                var p = new Dictionary<string, Tensor> { ["kernel"] = kernel };
                if (useBias) p["bias"] = Np.Reshape(bi(k2, new Shape(checked((int)featureCount)), paramDtype), feats);
                return (p, null);
            },
            (parameters, x, rng, ctx) =>
            {
                var p = (Dictionary<string, Tensor>)parameters;
                var t = (Tensor)x;
                var ax = Normalise(t.Shape, ctx.Path);
                var operands = useBias ? Np.Promote(t, p["kernel"], p["bias"]) : Np.Promote(t, p["kernel"]);
                var y = Lax.DotGeneral(operands[0], operands[1], ax, Enumerable.Range(0, ax.Length).ToArray());
                return useBias ? y + operands[2] : y;
            });
    }
}
