namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// Flax's <c>nn.LayerNorm</c>: normalises each example over <paramref name="reductionAxes"/>
    /// (default the last axis), <c>y = (x − mean) · rsqrt(var + ε) · scale + bias</c>, with learned
    /// <c>{"scale", "bias"}</c> (ones and zeros) over <paramref name="featureAxes"/> (default the
    /// last: shape (features,)). Flax's defaults: ε = 1e-6, the fast variance
    /// <c>max(0, E[x²] − E[x]²)</c> (<paramref name="useFastVariance"/>: false computes
    /// <c>E[(x − mean)²]</c>), statistics in at least float32; the result has the promoted type of
    /// the input and the parameters (a bfloat16 input with float32 parameters gives float32, as Flax).
    /// </summary>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="useBias">Learn and add <c>bias</c>.</param>
    /// <param name="useScale">Learn and multiply by <c>scale</c>.</param>
    /// <param name="biasInit">Initializer of bias (null: zeros).</param>
    /// <param name="scaleInit">Initializer of scale (null: ones).</param>
    /// <param name="reductionAxes">Axes of the statistics (null: the last).</param>
    /// <param name="featureAxes">Axes that have their own scale and bias (null: the last).</param>
    /// <param name="useFastVariance">Use E[x²] − E[x]² (Flax's default) instead of E[(x − mean)²].</param>
    /// <param name="paramDtype">Dtype of the parameters (float32).</param>
    public static Module LayerNorm(double epsilon = 1e-6, bool useBias = true, bool useScale = true, Initializer? biasInit = null,
        Initializer? scaleInit = null, int[]? reductionAxes = null, int[]? featureAxes = null, bool useFastVariance = true,
        DType paramDtype = DType.Float32)
        => Normalization("LayerNorm", epsilon, useMean: true, useBias, useScale, biasInit, scaleInit, reductionAxes, featureAxes, useFastVariance, paramDtype);

    /// <summary>
    /// Flax's <c>nn.RMSNorm</c>: <c>y = x · rsqrt(mean(x²) + ε) · scale</c> over
    /// <paramref name="reductionAxes"/> (default the last), no centring and no bias; parameter
    /// <c>{"scale"}</c> (ones) over <paramref name="featureAxes"/>. ε = 1e-6 as Flax; statistics in at
    /// least float32 and the result typed as in <see cref="LayerNorm"/>.
    /// </summary>
    /// <param name="epsilon">Added to the mean square.</param>
    /// <param name="useScale">Learn and multiply by <c>scale</c>.</param>
    /// <param name="scaleInit">Initializer of scale (null: ones).</param>
    /// <param name="reductionAxes">Axes of the statistic (null: the last).</param>
    /// <param name="featureAxes">Axes that have their own scale (null: the last).</param>
    /// <param name="paramDtype">Dtype of the parameters (float32).</param>
    public static Module RMSNorm(double epsilon = 1e-6, bool useScale = true, Initializer? scaleInit = null,
        int[]? reductionAxes = null, int[]? featureAxes = null, DType paramDtype = DType.Float32)
        => Normalization("RMSNorm", epsilon, useMean: false, useBias: false, useScale, null, scaleInit, reductionAxes, featureAxes, true, paramDtype);

    static Module Normalization(string name, double epsilon, bool useMean, bool useBias, bool useScale, Initializer? biasInit,
        Initializer? scaleInit, int[]? reductionAxes, int[]? featureAxes, bool useFastVariance, DType paramDtype)
    {
        if (!(epsilon >= 0)) throw new ArgumentException($"{name}: epsilon must be non-negative, got {epsilon}");
        var bi = biasInit ?? Initializers.Zeros();
        var si = scaleInit ?? Initializers.Ones();
        var red = (int[])(reductionAxes ?? new[] { -1 }).Clone();
        var feat = (int[])(featureAxes ?? new[] { -1 }).Clone();
        (int[] Red, int[] Feat) Axes(int rank, string where)
            => (NormalizationMath.Axes(red, rank, "reduction axis", where), NormalizationMath.Axes(feat, rank, "feature axis", where));

        return Module.Leaf(name,
            (input, key) =>
            {
                var (_, f) = Axes(input.Rank, Tracing.NameScope.Describe(name));
                var shape = NormalizationMath.FeatureShape(input.Shape, f);
                return (NormalizationMath.ScaleAndBias(key, shape, useScale ? si : null, useBias ? bi : null, paramDtype), null);
            },
            (parameters, x, rng, ctx) =>
            {
                var p = (Dictionary<string, Tensor>)parameters;
                var t = (Tensor)x;
                if (!t.DType.IsFloat()) throw new ArgumentException($"{ctx.Path}: expected a floating-point input, got {t.DType.Name()}{t.Shape}");
                var (r, f) = Axes(t.Rank, ctx.Path);
                var (mean, variance) = NormalizationMath.Stats(t, r, useMean, useFastVariance);
                return NormalizationMath.Normalize(t, mean, variance, r, f, epsilon,
                    useScale ? p["scale"] : null, useBias ? p["bias"] : null);
            });
    }
}
