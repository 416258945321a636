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
}
