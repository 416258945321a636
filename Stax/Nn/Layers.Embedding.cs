namespace Stax.Nn;

public static partial class Layers
{
    /// <summary>
    /// Flax's <c>nn.Embed</c>: maps integers in [0, <paramref name="numEmbeddings"/>) to rows of a
    /// table <c>{"embedding": (numEmbeddings, features)}</c>; the output is the input's shape plus
    /// <c>features</c>. Default init as Flax: variance scaling (1, fan-in, normal, out axis 0), i.e.
    /// normal with standard deviation 1/√features. Indices out of range give NaN rows and negative
    /// indices count from the end (<c>jnp.take</c>). <see cref="EmbeddingModule.Attend"/> reuses the
    /// table as an output projection (weight tying).
    /// </summary>
    /// <param name="numEmbeddings">Number of rows (vocabulary size).</param>
    /// <param name="features">Width of each row.</param>
    /// <param name="embeddingInit">Initializer of the table (null: Flax's default).</param>
    /// <param name="paramDtype">Dtype of the table (float32).</param>
    public static EmbeddingModule Embedding(int numEmbeddings, int features, Initializer? embeddingInit = null, DType paramDtype = DType.Float32)
        => new(numEmbeddings, features, embeddingInit ?? Initializers.VarianceScaling(1.0, FanMode.FanIn, Distribution.Normal, outAxis: 0), paramDtype);
}

/// <summary>
/// An embedding table (<see cref="Layers.Embedding"/>): a module from integer ids to vectors,
/// plus <see cref="Attend"/>, the tied output projection over the same table.
/// <code>var embed = Embedding(vocab, width);
/// var h = embed.Call(p["embed"], tokens);          // (batch, length, width)
/// ...
/// var logits = embed.Attend(p["embed"], h);        // (batch, length, vocab), the same table</code>
/// </summary>
public sealed class EmbeddingModule : Module
{
    readonly LeafApply _attend;

    internal EmbeddingModule(int numEmbeddings, int features, Initializer init, DType paramDtype)
        : base("Embedding", null, MakeInit(numEmbeddings, features, init, paramDtype), Lookup(numEmbeddings, features))
    {
        NumEmbeddings = numEmbeddings;
        Features = features;
        _attend = AttendApply(features);
    }

    /// <summary>Number of rows (vocabulary size).</summary>
    public int NumEmbeddings { get; }

    /// <summary>Width of each row.</summary>
    public int Features { get; }

    /// <summary>
    /// Flax's <c>Embed.attend</c>: the inner product of <paramref name="query"/> (last dimension
    /// <see cref="Features"/>) with every row, <c>query @ embedding.T</c>, giving a last dimension of
    /// <see cref="NumEmbeddings"/>. It uses the parameters of this module on <paramref name="p"/>, the
    /// same table its ordinary call reads (created by whichever comes first), so the embedding and
    /// the output projection are one parameter.
    /// </summary>
    public Tensor Attend(Slot p, Tensor query) => CallLeafMethod(p, query, _attend);

    static LeafModuleInit MakeInit(int numEmbeddings, int features, Initializer init, DType paramDtype)
    {
        if (numEmbeddings <= 0 || features <= 0)
            throw new ArgumentException($"Embedding: numEmbeddings and features must be positive, got {numEmbeddings} and {features}");
        // The table does not depend on the input (ids for a call, queries for Attend).
        return (input, key) => (new Dictionary<string, Tensor> { ["embedding"] = init(key, new Shape(numEmbeddings, features), paramDtype) }, null);
    }

    static LeafApply Lookup(int numEmbeddings, int features) => (parameters, x, rng, ctx) =>
    {
        var table = ((Dictionary<string, Tensor>)parameters)["embedding"];
        var ids = (Tensor)x;
        if (ids.DType.IsFloat() || ids.DType == DType.Bool)
            throw new ArgumentException($"{ctx.Path}: the input must be integer ids, got {ids.DType.Name()}{ids.Shape} (Attend takes float queries)");
        if (numEmbeddings == 1) return Np.BroadcastTo(table, new Shape(ids.Shape.ToArray().Append(features).ToArray()));
        return Np.Take(table, ids, axis: 0);
    };

    static LeafApply AttendApply(int features) => (parameters, x, rng, ctx) =>
    {
        var table = ((Dictionary<string, Tensor>)parameters)["embedding"];
        var q = (Tensor)x;
        if (q.Rank < 1 || q.Shape[-1] != features)
            throw new ArgumentException($"{ctx.Path}: Attend needs queries whose last dimension is the embedding width {features}, got {q.Shape}");
        var pr = Np.Promote(q, table);
        return Np.Matmul(pr[0], Np.Transpose(pr[1]));
    };
}
