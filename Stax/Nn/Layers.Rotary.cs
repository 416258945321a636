namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// Rotary position embedding (RoPE, Su et al. 2021) in the half-split layout of Gemma, LLaMA
    /// and GPT-NeoX: for <paramref name="x"/> of shape <c>[batch..., length, heads, depth]</c>
    /// (depth even) and pair i &lt; depth/2 of (x[i], x[i + depth/2]), rotates by the angle
    /// <c>position / maxWavelength^(2i/depth)</c>:
    /// <c>(a, b) → (a·cos − b·sin, b·cos + a·sin)</c>. <paramref name="positions"/> are
    /// <c>[batch..., length]</c> (or just <c>[length]</c>); null means 0, 1, ..., length − 1. The
    /// result has x's dtype. Queries and keys rotated so have dot products that depend only on
    /// the offset between positions. Parameter-free; <see cref="MultiHeadDotProductAttention"/>
    /// applies it to queries and keys with <c>rotary: true</c>.
    /// </summary>
    /// <param name="x">Queries or keys <c>[batch..., length, heads, depth]</c>.</param>
    /// <param name="positions">Positions <c>[batch..., length]</c> (integer or float), or null for 0..length−1.</param>
    /// <param name="maxWavelength">The base of the geometric frequencies (10,000 as the paper).</param>
    public static Tensor ApplyRotaryEmbedding(Tensor x, Tensor? positions = null, double maxWavelength = 10_000)
    {
        const string op = "ApplyRotaryEmbedding";
        if (x.Rank < 3) throw new ArgumentException($"{op}: expected x of shape [batch..., length, heads, depth], got {x.Shape}");
        if (!x.DType.IsFloat()) throw new ArgumentException($"{op}: x must be floating point, got {x.DType.Name()}");
        int depth = x.Shape[-1], length = x.Shape[-3], half = depth / 2;
        if (depth % 2 != 0) throw new ArgumentException($"{op}: the depth (last axis) must be even, got {x.Shape}");
        if (!(maxWavelength > 0)) throw new ArgumentException($"{op}: maxWavelength must be positive, got {maxWavelength}");
        var work = x.DType == DType.Float64 ? DType.Float64 : DType.Float32;
        var pos = positions ?? Np.Arange(length);
        if (pos.Rank < 1 || pos.Shape[-1] != length)
            throw new ArgumentException($"{op}: positions must be [batch..., length] with length {length}, got {pos.Shape}");
        pos = Lax.ConvertElementType(pos, work);
        var timescale = new double[half];
        for (int i = 0; i < half; i++) timescale[i] = Math.Pow(maxWavelength, 2.0 * i / depth);
        var scale = work == DType.Float64 ? Tensor.FromArray(timescale) : Tensor.FromArray(timescale.Select(v => (float)v).ToArray());
        var angle = Np.ExpandDims(Np.ExpandDims(pos, -1) / scale, -2);        // [batch..., length, 1, half]
        var sin = Np.Sin(angle);
        var cos = Np.Cos(angle);
        var parts = Np.Split(x.DType == work ? x : Lax.ConvertElementType(x, work), 2, axis: -1);
        var y = Np.Concatenate(new[] { parts[0] * cos - parts[1] * sin, parts[1] * cos + parts[0] * sin }, axis: -1);
        return y.DType == x.DType ? y : Lax.ConvertElementType(y, x.DType);
    }
}
