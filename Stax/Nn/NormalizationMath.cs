namespace Stax.Nn;

/// <summary>
/// The statistics and normalisation shared by LayerNorm, RMSNorm and GroupNorm, as Flax's
/// <c>_compute_stats</c> and <c>_normalize</c>: statistics in at least float32, the fast variance
/// <c>max(0, E[x²] − E[x]²)</c> by default, scale and bias shaped by the feature axes.
/// </summary>
internal static class NormalizationMath
{
    /// <summary>Sorted, distinct, non-negative axes; errors name <paramref name="where"/>.</summary>
    public static int[] Axes(int[] axes, int rank, string what, string where)
    {
        var r = new SortedSet<int>();
        foreach (var a in axes)
        {
            int n = a < 0 ? a + rank : a;
            if (n < 0 || n >= rank)
                throw new ArgumentException($"{where}: {what} {a} is out of range for an input of rank {rank}");
            r.Add(n);
        }
        return r.ToArray();
    }

    /// <summary>The <c>scale</c> and <c>bias</c> parameters of a normalisation layer (each only when its
    /// initializer is given), from the two halves of <paramref name="key"/>.</summary>
    public static Dictionary<string, Tensor> ScaleAndBias(Key key, Shape shape, Initializer? scaleInit, Initializer? biasInit, DType dtype)
    {
        var (k1, k2) = key;
        var p = new Dictionary<string, Tensor>();
        if (scaleInit != null) p["scale"] = scaleInit(k1, shape, dtype);
        if (biasInit != null) p["bias"] = biasInit(k2, shape, dtype);
        return p;
    }

    /// <summary>Mean and variance of <paramref name="x"/> over <paramref name="axes"/> (reduced away).</summary>
    public static (Tensor Mean, Tensor Var) Stats(Tensor x, int[] axes, bool useMean, bool useFastVariance)
    {
        // Half precision would lose the statistics; Flax promotes to at least float32 too.
        var dtype = x.DType is DType.Float64 ? DType.Float64 : DType.Float32;
        if (x.DType != dtype) x = Lax.ConvertElementType(x, dtype);
        if (!useMean)
        {
            var ms = Np.Mean(x * x, axes);
            return (Np.ZerosLike(ms), ms);
        }
        var mean = Np.Mean(x, axes);
        if (useFastVariance)
        {
            var mean2 = Np.Mean(x * x, axes);
            // E[x²] − E[x]² can round below zero.
            return (mean, Np.Maximum(Np.ZerosLike(mean2), mean2 - mean * mean));
        }
        var centred = x - Np.ExpandDims(mean, axes);
        return (mean, Np.Mean(centred * centred, axes));
    }

    /// <summary>
    /// <c>(x − mean) · rsqrt(var + ε) · scale + bias</c>, with mean and var expanded back over
    /// <paramref name="reductionAxes"/> and the parameters reshaped to broadcast over
    /// <paramref name="featureAxes"/>; the result has the promoted type of x and the parameters used.
    /// </summary>
    public static Tensor Normalize(Tensor x, Tensor mean, Tensor var, int[] reductionAxes, int[] featureAxes, double epsilon,
        Tensor? scale, Tensor? bias)
    {
        var featureShape = Enumerable.Repeat(1, x.Rank).ToArray();
        foreach (var a in featureAxes) featureShape[a] = x.Shape[a];
        mean = Np.ExpandDims(mean, reductionAxes);
        var y = x - mean;
        var mul = Lax.Rsqrt(Np.ExpandDims(var, reductionAxes) + epsilon);
        var types = new List<Tensor> { x };
        if (scale is not null)
        {
            mul = mul * Np.Reshape(scale, featureShape);
            types.Add(scale);
        }
        y = y * mul;
        if (bias is not null)
        {
            y = y + Np.Reshape(bias, featureShape);
            types.Add(bias);
        }
        var dtype = TypePromotion.Result(types.Select(t => (t.DType, false)).ToArray()).DType;
        return y.DType == dtype ? y : Lax.ConvertElementType(y, dtype);
    }

    /// <summary>The shape of parameters over <paramref name="featureAxes"/> of <paramref name="shape"/>.</summary>
    public static Shape FeatureShape(Shape shape, int[] featureAxes) => new(featureAxes.Select(a => shape[a]).ToArray());
}
