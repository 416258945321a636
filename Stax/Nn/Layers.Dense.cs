namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// A fully connected layer: <c>x @ w + b</c> over the last axis. Parameters
    /// <c>{"w": (in, out), "b": (out,)}</c> with stax's defaults (glorot-normal weights, normal(1e-2) bias).
    /// </summary>
    public static Module Dense(int outDim, Initializer? wInit = null, Initializer? bInit = null)
    {
        if (outDim <= 0) throw new ArgumentException($"Dense: output size must be positive, got {outDim}");
        var wi = wInit ?? Initializers.GlorotNormal();
        var bi = bInit ?? Initializers.Normal();
        return Module.Leaf("Dense",
            (input, key) =>
            {
                if (input.Rank < 1)
                    throw new ArgumentException($"{Tracing.NameScope.Describe("Dense")}: expected an input with at least one dimension, got {input}");
                var (k1, k2) = key;
                int inDim = input.Shape[-1];
                var p = new Dictionary<string, Tensor>
                {
                    ["w"] = wi(k1, new Shape(inDim, outDim), input.DType.IsFloat() ? input.DType : DType.Float32),
                    ["b"] = bi(k2, new Shape(outDim), input.DType.IsFloat() ? input.DType : DType.Float32),
                };
                return (p, null);
            },
            (parameters, x, rng, ctx) =>
            {
                var p = (Dictionary<string, Tensor>)parameters;
                var t = (Tensor)x;
                var w = p["w"];
                if (t.Rank < 1 || t.Shape[-1] != w.Shape[0])
                    throw new ArgumentException($"{ctx.Path}: expected input with last dimension {w.Shape[0]}, got {t.Shape}");
                return Np.Matmul(t, w) + p["b"];
            });
    }

    /// <summary>
    /// Dropout in training mode: keeps each element with probability <paramref name="keepProbability"/>
    /// and scales kept ones by 1/keepProbability; the identity in inference mode. (stax's argument
    /// <c>rate</c> is this keep probability; the name here says so.) Needs an rng key in training.
    /// </summary>
    public static Module Dropout(double keepProbability)
    {
        if (!(keepProbability > 0 && keepProbability <= 1))
            throw new ArgumentException($"Dropout: keepProbability must be in (0, 1], got {keepProbability}");
        return Module.Leaf("Dropout",
            (input, key) => (Array.Empty<object?>(), null),
            (parameters, x, rng, ctx) =>
            {
                var t = (Tensor)x;
                if (!ctx.Training || keepProbability == 1) return t;
                if (rng.IsNone)
                    throw new ArgumentException($"{ctx.Path}: Dropout needs an rng key in training mode; pass one to Apply (e.g. rng: Rng.Key(0))");
                var keep = Rng.Bernoulli(rng, Tensor.Scalar(keepProbability), t.Shape);
                return Np.Where(keep, t / keepProbability, Np.ZerosLike(t));
            });
    }
}
