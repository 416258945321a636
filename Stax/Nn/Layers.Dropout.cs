namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// Dropout. Give exactly one of <paramref name="keepProbability"/> (stax's meaning of
    /// <c>rate</c>, positional: <c>Dropout(0.9)</c> keeps 90%) or <paramref name="rate"/> (Flax's:
    /// the probability of dropping, <c>Dropout(rate: 0.1)</c>).
    /// <para>Training (<c>training: true</c>): keeps each element with probability
    /// <c>keep</c> and scales kept ones by <c>1/keep</c> (<c>rate: 1</c> gives zeros, as Flax);
    /// inference: the identity. Elements along <paramref name="broadcastDims"/> share one mask
    /// (Flax's <c>broadcast_dims</c>).</para>
    /// <para>The key: the one passed to this layer's call (Serial passes each layer a split of
    /// Apply's <c>rng</c>), else a fresh key from the rng stream <paramref name="rngCollection"/>
    /// (<see cref="Slot.MakeRng(string)"/>), so a Dropout called inside a custom module without a key
    /// still gets its own key from the one step key given to Apply.</para>
    /// </summary>
    /// <param name="keepProbability">Probability of keeping an element, in (0, 1].</param>
    /// <param name="rate">Probability of dropping an element, in [0, 1] (Flax's <c>rate</c>).</param>
    /// <param name="broadcastDims">Axes along which the mask is shared (negative count from the end).</param>
    /// <param name="rngCollection">The rng stream used when no key is passed (Flax's <c>rng_collection</c>).</param>
    public static Module Dropout(double? keepProbability = null, double? rate = null, int[]? broadcastDims = null, string rngCollection = "dropout")
    {
        const string name = "Dropout";
        if (keepProbability is null == rate is null)
            throw new ArgumentException($"{name}: give exactly one of keepProbability (stax) or rate (Flax: the drop probability)");
        if (keepProbability is double kp && !(kp > 0 && kp <= 1))
            throw new ArgumentException($"{name}: keepProbability must be in (0, 1], got {kp}");
        if (rate is double r && !(r >= 0 && r <= 1))
            throw new ArgumentException($"{name}: rate must be in [0, 1], got {r}");
        ArgumentNullException.ThrowIfNull(rngCollection);
        double keep = keepProbability ?? 1 - rate!.Value;
        var dims = (int[])(broadcastDims ?? Array.Empty<int>()).Clone();
        return Module.Leaf(name,
            (input, key) => (Array.Empty<object?>(), null),
            (parameters, x, rng, ctx) =>
            {
                var t = (Tensor)x;
                if (!ctx.Training || keep == 1) return t;
                // Flax returns zeros for rate 1 rather than dividing by a zero keep probability.
                if (keep == 0) return Np.ZerosLike(t);
                if (rng.IsNone)
                    rng = ctx.TryMakeRng(rngCollection) ?? throw new ArgumentException(
                        $"{ctx.Path}: Dropout needs an rng key in training mode; pass one to Apply (rng: key, or rngs: new() {{ [\"{rngCollection}\"] = key }})");
                var maskShape = t.Shape.ToArray();
                foreach (var d in dims) maskShape[t.Shape.Axis(d, $"{ctx.Path}: broadcastDims")] = 1;
                var mask = Rng.Bernoulli(rng, Tensor.Scalar(keep), new Shape(maskShape));
                if (dims.Length > 0) mask = Np.BroadcastTo(mask, t.Shape);
                return Np.Where(mask, t / keep, Np.ZerosLike(t));
            });
    }
}
