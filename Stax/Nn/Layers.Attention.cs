namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// Flax's <c>nn.dot_product_attention_weights</c>: softmax over keys of
    /// <c>(query / √depth) · key</c> (+ <paramref name="bias"/>, masked), with attention dropout.
    /// Shapes: query <c>[batch..., q_length, heads, depth]</c>, key <c>[batch..., kv_length, heads, depth]</c>
    /// (any number of batch dimensions, including none); the result is
    /// <c>[batch..., heads, q_length, kv_length]</c>. Where <paramref name="mask"/> (broadcastable to
    /// the result; bool, or numbers where non-zero means keep) is false the logit becomes the
    /// dtype's most negative finite value, as Flax. Dropout runs when <paramref name="deterministic"/>
    /// is false and <paramref name="dropoutRate"/> &gt; 0: keep probability 1 − rate, kept weights
    /// scaled by 1/keep, one mask shared across batch and heads when <paramref name="broadcastDropout"/>.
    /// </summary>
    /// <param name="query">Queries <c>[batch..., q_length, heads, depth]</c>.</param>
    /// <param name="key">Keys <c>[batch..., kv_length, heads, depth]</c>.</param>
    /// <param name="bias">Added to the logits (broadcastable to the result), or null.</param>
    /// <param name="mask">Which logits to keep (broadcastable to the result), or null.</param>
    /// <param name="broadcastDropout">One dropout mask for all batch elements and heads.</param>
    /// <param name="dropoutRng">The dropout key (needed when dropout runs).</param>
    /// <param name="dropoutRate">Probability of dropping a weight.</param>
    /// <param name="deterministic">True: no dropout.</param>
    public static Tensor DotProductAttentionWeights(Tensor query, Tensor key, Tensor? bias = null, Tensor? mask = null,
        bool broadcastDropout = true, Key? dropoutRng = null, double dropoutRate = 0.0, bool deterministic = false)
    {
        const string op = "DotProductAttentionWeights";
        var pr = Np.Promote(query, key);
        Tensor q = pr[0], k = pr[1];
        CheckAttentionShapes(op, q, k, null);
        var dtype = q.DType;
        if (!dtype.IsFloat()) throw new ArgumentException($"{op}: query and key must be floating point, got {dtype.Name()}");
        int nb = q.Rank - 3;
        q = q / Math.Sqrt(q.Shape[-1]);
        var batch = Enumerable.Range(0, nb).Append(nb + 1).ToArray();
        // (batch..., heads, q_length, kv_length)
        var weights = Lax.DotGeneral(q, k, new[] { nb + 2 }, new[] { nb + 2 }, batch, batch);
        if (bias is not null) weights = weights + bias;
        if (mask is not null) weights = Np.Where(mask, weights, Tensor.Scalar(MostNegative(dtype), dtype));
        weights = Np.Softmax(weights, axis: -1);
        if (weights.DType != dtype) weights = Lax.ConvertElementType(weights, dtype);
        if (!(dropoutRate >= 0 && dropoutRate <= 1))
            throw new ArgumentException($"{op}: dropoutRate must be in [0, 1], got {dropoutRate}");
        if (!deterministic && dropoutRate > 0)
        {
            if (dropoutRng is null || dropoutRng.IsNone)
                throw new ArgumentException($"{op}: dropout (rate {dropoutRate}, not deterministic) needs a dropoutRng key");
            double keep = 1 - dropoutRate;
            var maskShape = broadcastDropout
                ? Enumerable.Repeat(1, k.Rank - 2).Concat(weights.Shape.ToArray()[^2..]).ToArray()
                : weights.Shape.ToArray();
            var kept = Rng.Bernoulli(dropoutRng, Tensor.Scalar(keep), new Shape(maskShape));
            weights = weights * (Lax.ConvertElementType(kept, dtype) / Tensor.Scalar(keep, dtype));
        }
        return weights;
    }

    /// <summary>
    /// Flax's <c>nn.dot_product_attention</c>: the attention weights of
    /// <see cref="DotProductAttentionWeights"/> applied to <paramref name="value"/>
    /// <c>[batch..., kv_length, heads, v_depth]</c>; the result is <c>[batch..., q_length, heads, v_depth]</c>.
    /// Query, key and value are promoted to a common dtype.
    /// </summary>
    /// <param name="query">Queries <c>[batch..., q_length, heads, depth]</c>.</param>
    /// <param name="key">Keys <c>[batch..., kv_length, heads, depth]</c>.</param>
    /// <param name="value">Values <c>[batch..., kv_length, heads, v_depth]</c>.</param>
    /// <param name="bias">Added to the logits, or null.</param>
    /// <param name="mask">Which logits to keep, or null.</param>
    /// <param name="broadcastDropout">One dropout mask for all batch elements and heads.</param>
    /// <param name="dropoutRng">The dropout key (needed when dropout runs).</param>
    /// <param name="dropoutRate">Probability of dropping a weight.</param>
    /// <param name="deterministic">True: no dropout.</param>
    public static Tensor DotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? bias = null, Tensor? mask = null,
        bool broadcastDropout = true, Key? dropoutRng = null, double dropoutRate = 0.0, bool deterministic = false)
    {
        const string op = "DotProductAttention";
        var pr = Np.Promote(query, key, value);
        Tensor q = pr[0], k = pr[1], v = pr[2];
        CheckAttentionShapes(op, q, k, v);
        var weights = DotProductAttentionWeights(q, k, bias, mask, broadcastDropout, dropoutRng, dropoutRate, deterministic);
        int nb = q.Rank - 3;
        var batchW = Enumerable.Range(0, nb + 1).ToArray();               // batch..., heads
        var batchV = Enumerable.Range(0, nb).Append(nb + 1).ToArray();
        // (batch..., heads, q_length, v_depth) -> (batch..., q_length, heads, v_depth)
        var y = Lax.DotGeneral(weights, v, new[] { nb + 2 }, new[] { nb }, batchW, batchV);
        return Np.Transpose(y, Enumerable.Range(0, nb).Concat(new[] { nb + 1, nb, nb + 2 }).ToArray());
    }

    static void CheckAttentionShapes(string op, Tensor q, Tensor k, Tensor? v)
    {
        string Shapes() => $"query {q.Shape}, key {k.Shape}" + (v is null ? "" : $", value {v.Shape}");
        if (q.Rank < 3 || k.Rank != q.Rank || (v is not null && v.Rank != q.Rank))
            throw new ArgumentException($"{op}: query, key (and value) need the same rank, at least 3 ([batch..., length, heads, depth]), got {Shapes()}");
        int r = q.Rank;
        for (int i = 0; i < r - 3; i++)
            if (q.Shape[i] != k.Shape[i] || (v is not null && v.Shape[i] != q.Shape[i]))
                throw new ArgumentException($"{op}: batch dimensions must match, got {Shapes()}");
        if (q.Shape[-2] != k.Shape[-2] || (v is not null && v.Shape[-2] != q.Shape[-2]))
            throw new ArgumentException($"{op}: the number of heads (axis -2) must match, got {Shapes()}");
        if (q.Shape[-1] != k.Shape[-1])
            throw new ArgumentException($"{op}: query and key depths (axis -1) must match, got {Shapes()}");
        if (v is not null && k.Shape[-3] != v.Shape[-3])
            throw new ArgumentException($"{op}: key and value lengths (axis -3) must match, got {Shapes()}");
    }

    // jnp.finfo(dtype).min: what Flax writes into masked logits.
    static double MostNegative(DType dtype) => dtype switch
    {
        DType.Float64 => double.MinValue,
        DType.Float16 => -65504.0,
        DType.BFloat16 => -3.3895313892515355e38,
        _ => float.MinValue,
    };

    /// <summary>
    /// Flax's <c>nn.make_attention_mask</c>: <c>pairwiseFn(queryInput[..., :, None], keyInput[..., None, :])</c>
    /// with a head axis inserted, <c>[batch..., 1, q_length, kv_length]</c>, and
    /// <paramref name="extraBatchDims"/> leading size-1 axes, as <paramref name="dtype"/> (float32 as
    /// Flax; 1 keeps, 0 masks). The default pairwise function multiplies (padding masks from 0/1 inputs).
    /// </summary>
    /// <param name="queryInput">Per-query values <c>[batch..., q_length]</c>.</param>
    /// <param name="keyInput">Per-key values <c>[batch..., kv_length]</c>.</param>
    /// <param name="pairwiseFn">Broadcasting comparison (null: multiplication).</param>
    /// <param name="extraBatchDims">Leading size-1 axes to add.</param>
    /// <param name="dtype">The mask's dtype.</param>
    public static Tensor MakeAttentionMask(Tensor queryInput, Tensor keyInput, Func<Tensor, Tensor, Tensor>? pairwiseFn = null,
        int extraBatchDims = 0, DType dtype = DType.Float32)
    {
        if (extraBatchDims < 0) throw new ArgumentException($"MakeAttentionMask: extraBatchDims must be non-negative, got {extraBatchDims}");
        var f = pairwiseFn ?? Np.Multiply;
        var mask = f(Np.ExpandDims(queryInput, -1), Np.ExpandDims(keyInput, -2));
        mask = Np.ExpandDims(mask, -3);
        if (extraBatchDims > 0) mask = Np.ExpandDims(mask, Enumerable.Range(0, extraBatchDims).ToArray());
        return Np.AsType(mask, dtype);
    }

    /// <summary>
    /// Flax's <c>nn.make_causal_mask</c>: for <paramref name="x"/> of shape <c>[batch..., length]</c>
    /// (only the shape is used), the mask <c>[batch..., 1, length, length]</c> that lets query i see
    /// keys j ≤ i (1 keeps, 0 masks; float32 by default as Flax).
    /// </summary>
    /// <param name="x">Anything of shape <c>[batch..., length]</c> (e.g. the token ids).</param>
    /// <param name="extraBatchDims">Leading size-1 axes to add.</param>
    /// <param name="dtype">The mask's dtype.</param>
    public static Tensor MakeCausalMask(Tensor x, int extraBatchDims = 0, DType dtype = DType.Float32)
    {
        if (x.Rank < 1) throw new ArgumentException($"MakeCausalMask: expected an input of shape [batch..., length], got {x.Shape}");
        var idx = Np.BroadcastTo(Np.Arange(x.Shape[-1]), x.Shape);
        return MakeAttentionMask(idx, idx, (a, b) => a >= b, extraBatchDims, dtype);
    }

    /// <summary>
    /// Flax's <c>nn.combine_masks</c>: the logical and of the masks that are not null (all of one
    /// rank), as float32; null when none is given.
    /// </summary>
    public static Tensor? CombineMasks(params Tensor?[] masks) => CombineMasks(masks, DType.Float32);

    /// <summary>Like <see cref="CombineMasks(Tensor?[])"/>, with the result's dtype.</summary>
    public static Tensor? CombineMasks(Tensor?[] masks, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(masks);
        var given = masks.Where(m => m is not null).Select(m => m!).ToArray();
        if (given.Length == 0) return null;
        if (given.Any(m => m.Rank != given[0].Rank))
            throw new ArgumentException($"CombineMasks: masks must have the same rank, got {string.Join(", ", given.Select(m => m.Shape))}");
        Tensor AsBool(Tensor m) => m.DType == DType.Bool ? m : m != 0;
        var r = AsBool(given[0]);
        for (int i = 1; i < given.Length; i++) r = Np.BitwiseAnd(r, AsBool(given[i]));
        return Np.AsType(r, dtype);
    }
}
