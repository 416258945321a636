namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// Flax's <c>nn.MultiHeadDotProductAttention</c>: projects queries, keys and values to
    /// <paramref name="numHeads"/> heads (<see cref="DenseGeneral"/> on slots <c>"query"</c>,
    /// <c>"key"</c>, <c>"value"</c>, kernels (in, heads, qkv/heads)), runs
    /// <see cref="DotProductAttention"/> and projects back (<c>"out"</c>, kernel (heads, qkv/heads, out)).
    /// Defaults as Flax: qkv and output features = the query input's last dimension, LeCun-normal
    /// kernels, zero biases, no dropout. Call it as self-attention <c>attn.Call(p, x, mask: m)</c> or
    /// cross-attention <c>attn.Call(p, x, memory)</c> (<see cref="AttentionModule.Call"/>); inside
    /// <c>Serial</c> it is self-attention without a mask. Attention dropout runs in training with
    /// the call's key or else one from the <c>"dropout"</c> rng stream.
    /// <para><paramref name="normalizeQk"/> adds Flax's LayerNorms (no bias) <c>"query_ln"</c> and
    /// <c>"key_ln"</c> on the projected queries and keys. <paramref name="rotary"/> (not in Flax)
    /// then applies <see cref="ApplyRotaryEmbedding"/> to them with positions 0..length−1.</para>
    /// </summary>
    /// <param name="numHeads">Number of heads; must divide the qkv features.</param>
    /// <param name="qkvFeatures">Width of queries, keys and values over all heads (null: the query input's width).</param>
    /// <param name="outFeatures">Output width (null: the query input's width).</param>
    /// <param name="dropoutRate">Attention-weight dropout probability (training only).</param>
    /// <param name="broadcastDropout">One dropout mask for all batch elements and heads (Flax's default).</param>
    /// <param name="kernelInit">Projection kernel initializer (null: LeCun normal).</param>
    /// <param name="biasInit">Projection bias initializer (null: zeros).</param>
    /// <param name="outKernelInit">Output kernel initializer (null: <paramref name="kernelInit"/>).</param>
    /// <param name="outBiasInit">Output bias initializer (null: <paramref name="biasInit"/>).</param>
    /// <param name="useBias">Biases in the four projections.</param>
    /// <param name="normalizeQk">LayerNorm the projected queries and keys.</param>
    /// <param name="rotary">Rotary position embedding of queries and keys (a Stax addition).</param>
    /// <param name="rotaryMaxWavelength">RoPE's frequency base.</param>
    /// <param name="paramDtype">Dtype of the parameters (float32).</param>
    public static AttentionModule MultiHeadDotProductAttention(int numHeads, int? qkvFeatures = null, int? outFeatures = null,
        double dropoutRate = 0.0, bool broadcastDropout = true, Initializer? kernelInit = null, Initializer? biasInit = null,
        Initializer? outKernelInit = null, Initializer? outBiasInit = null, bool useBias = true, bool normalizeQk = false,
        bool rotary = false, double rotaryMaxWavelength = 10_000, DType paramDtype = DType.Float32)
    {
        const string name = "MultiHeadDotProductAttention";
        if (numHeads <= 0) throw new ArgumentException($"{name}: numHeads must be positive, got {numHeads}");
        if (qkvFeatures is <= 0 || outFeatures is <= 0)
            throw new ArgumentException($"{name}: qkvFeatures and outFeatures must be positive, got {qkvFeatures} and {outFeatures}");
        if (!(dropoutRate >= 0 && dropoutRate <= 1)) throw new ArgumentException($"{name}: dropoutRate must be in [0, 1], got {dropoutRate}");
        var ki = kernelInit ?? Initializers.LecunNormal();
        var bi = biasInit ?? Initializers.Zeros();
        // One set of projection layers per input width, so repeated calls reuse module instances.
        var projections = new Dictionary<int, (Module Q, Module K, Module V, Module Out)>();
        var queryLn = LayerNorm(useBias: false, paramDtype: paramDtype);
        var keyLn = LayerNorm(useBias: false, paramDtype: paramDtype);

        (Module Q, Module K, Module V, Module Out) Projections(int width)
        {
            lock (projections)
            {
                if (projections.TryGetValue(width, out var m)) return m;
                int qkv = qkvFeatures ?? width, outWidth = outFeatures ?? width;
                if (qkv % numHeads != 0)
                    throw new ArgumentException($"{Tracing.NameScope.Describe(name)}: the qkv features ({qkv}) must be divisible by the number of heads ({numHeads})");
                var heads = new[] { numHeads, qkv / numHeads };
                Module Proj() => DenseGeneral(heads, useBias: useBias, kernelInit: ki, biasInit: bi, paramDtype: paramDtype);
                m = (Proj(), Proj(), Proj(),
                     DenseGeneral(new[] { outWidth }, new[] { -2, -1 }, useBias, outKernelInit ?? ki, outBiasInit ?? bi, paramDtype));
                projections[width] = m;
                return m;
            }
        }

        return new AttentionModule(name, (p, x, rng) =>
        {
            var (inputsQ, inputsK, inputsV, mask) = AttentionModule.Unpack(x, name);
            if (inputsK is null)
            {
                if (inputsV is not null)
                    throw new ArgumentException($"{Tracing.NameScope.Describe(name)}: inputsK cannot be null when inputsV is given; pass the same tensor to inputsK and leave inputsV null");
                inputsK = inputsQ;
            }
            inputsV ??= inputsK;
            if (inputsQ.Rank < 2)
                throw new ArgumentException($"{Tracing.NameScope.Describe(name)}: expected inputs of shape [batch..., length, features], got {inputsQ.Shape}");
            var proj = Projections(inputsQ.Shape[-1]);
            var query = proj.Q.Call(p["query"], inputsQ);
            var key = proj.K.Call(p["key"], inputsK);
            var value = proj.V.Call(p["value"], inputsV);
            if (normalizeQk)
            {
                query = queryLn.Call(p["query_ln"], query);
                key = keyLn.Call(p["key_ln"], key);
            }
            if (rotary)
            {
                query = ApplyRotaryEmbedding(query, maxWavelength: rotaryMaxWavelength);
                key = ApplyRotaryEmbedding(key, maxWavelength: rotaryMaxWavelength);
            }
            bool deterministic = !p.Training || dropoutRate == 0;
            Key? dropoutRng = null;
            if (!deterministic) dropoutRng = rng.IsNone ? p.MakeRng("dropout") : rng;
            var y = DotProductAttention(query, key, value, mask: mask, broadcastDropout: broadcastDropout,
                dropoutRng: dropoutRng, dropoutRate: dropoutRate, deterministic: deterministic);
            return proj.Out.Call(p["out"], y);
        });
    }

    /// <summary>Flax's alias of <see cref="MultiHeadDotProductAttention"/> (the same layer).</summary>
    public static AttentionModule MultiHeadAttention(int numHeads, int? qkvFeatures = null, int? outFeatures = null,
        double dropoutRate = 0.0, bool broadcastDropout = true, Initializer? kernelInit = null, Initializer? biasInit = null,
        Initializer? outKernelInit = null, Initializer? outBiasInit = null, bool useBias = true, bool normalizeQk = false,
        bool rotary = false, double rotaryMaxWavelength = 10_000, DType paramDtype = DType.Float32)
        => MultiHeadDotProductAttention(numHeads, qkvFeatures, outFeatures, dropoutRate, broadcastDropout, kernelInit, biasInit,
            outKernelInit, outBiasInit, useBias, normalizeQk, rotary, rotaryMaxWavelength, paramDtype);
}

/// <summary>
/// Multi-head attention (<see cref="Layers.MultiHeadDotProductAttention"/>): a module whose
/// <see cref="Call"/> also takes keys/values and a mask. Its tree input, for
/// <see cref="Module.ApplyTree"/> and <see cref="Module.InitializeTree"/>, is
/// <c>new object?[] { inputsQ, inputsK, inputsV, mask }</c> (nulls allowed), or a tensor for self-attention.
/// </summary>
public sealed class AttentionModule : Module
{
    internal AttentionModule(string name, Func<Slot, object, Key, object> apply) : base(name, apply, null, null) { }

    /// <summary>
    /// Attention inside another module's apply. Self-attention: <c>Call(p, x)</c> (keys and values
    /// are <paramref name="inputsQ"/>); cross-attention: <c>Call(p, x, memory)</c> (values = keys)
    /// or all three. <paramref name="mask"/> is broadcastable to <c>[batch..., heads, q_length,
    /// kv_length]</c> (e.g. <see cref="Layers.MakeCausalMask"/>); <paramref name="dropoutRng"/>
    /// overrides the <c>"dropout"</c> stream for attention dropout.
    /// </summary>
    public Tensor Call(Slot p, Tensor inputsQ, Tensor? inputsK = null, Tensor? inputsV = null, Tensor? mask = null, Key? dropoutRng = null)
        => AsTensor(CallTree(p, new object?[] { inputsQ, inputsK, inputsV, mask }, dropoutRng), Name);

    internal static (Tensor Q, Tensor? K, Tensor? V, Tensor? Mask) Unpack(object x, string name) => x switch
    {
        Tensor t => (t, null, null, null),
        object?[] { Length: 4 } a when a[0] is Tensor q && a.Skip(1).All(e => e is null or Tensor) => (q, (Tensor?)a[1], (Tensor?)a[2], (Tensor?)a[3]),
        _ => throw new ArgumentException($"{Tracing.NameScope.Describe(name)}: expected a tensor (self-attention) or object?[] {{ inputsQ, inputsK, inputsV, mask }}, got {x.GetType().Name}"),
    };
}
