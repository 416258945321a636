using Stax.Optim;

namespace Stax.Distributed;

/// <summary>
/// Optimizer-state sharding (ZeRO stage 1, PyTorch's <c>ZeroRedundancyOptimizer</c>) over the
/// process axis: every rank keeps the optimizer state of, and updates, only its part of each
/// parameter's flattened elements (<see cref="ShardLayout"/>). One step of the wrapped
/// transformation becomes: the local gradients summed over the ranks with each rank receiving its
/// shard (<c>psum_scatter_fused</c>) and divided by the number of ranks (the mean, as
/// <see cref="GradientFusion.Pmean{T}"/>); the wrapped transformation's update of the shards; the
/// updates' shards gathered into full updates on every rank (<c>all_gather_fused</c>), which
/// <c>TrainState.ApplyGradients</c> adds to the parameters. The same bytes move as with an
/// all-reduce, each rank runs 1/n of the optimizer's elementwise work and holds 1/n of its state,
/// and every rank adds the same gathered bytes, so the parameters stay bit-identical.
/// <code>var tx = ZeroRedundancyOptimizer.Create(Optax.Adam(1e-3), "batch");
/// var state = TrainState.Create(parameters, tx);        // each rank: state for its shards
/// // in the jitted step: pass the local gradients; do not Pmean them
/// return (s.ApplyGradients(grads), Transforms.Pmean(loss, "batch"));</code>
/// The wrapped transformation sees a tree of the parameters' structure whose leaves are 1-D
/// shards, so it must act elementwise on parameter-shaped tensors (SGD, momentum, Adam, AdamW,
/// RMSProp, Adagrad, weight decay, masks by path, ...). Transformations that look at a whole
/// tensor or at all of them (global-norm clipping, Adafactor's factored moments, LAMB/LARS trust
/// ratios) would see only this rank's shard: not supported. Gradients are float tensors.
/// </summary>
public static class ZeroRedundancyOptimizer
{
    /// <summary>
    /// <paramref name="inner"/> with its state sharded over the process axis
    /// <paramref name="axisName"/> (see the class). Its <c>Init</c> takes the full parameters (the
    /// same on every rank) and keeps this rank's shards; its <c>Update</c> takes the rank's local
    /// gradients and returns full updates, identical on every rank.
    /// </summary>
    public static GradientTransformation Create(GradientTransformation inner, string axisName)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentException.ThrowIfNullOrEmpty(axisName);
        string who = $"ZeroRedundancyOptimizer({inner.Name})";
        return new GradientTransformation(
            p => new ZeroRedundancyState(inner.Init(Shards(p, axisName))),
            (u, s, p) => Update(inner, axisName, who, u, s, p),
            $"zero_redundancy({inner.Name})");
    }

    static (TreeDef Def, Tensor[] Leaves) Shards(object? parameters, string axisName, out int ranks, out int rank)
    {
        var axis = ProcessAxes.Find(axisName)
            ?? throw new ArgumentException(
                $"ZeroRedundancyOptimizer: '{axisName}' is not a process axis "
                + $"(call Distributed.Initialize(\"{axisName}\") first)");
        (ranks, rank) = (axis.Size, axis.Index);
        var (leaves, def) = Tree.Flatten(parameters);
        var shards = new Tensor[leaves.Length];
        for (int i = 0; i < leaves.Length; i++) shards[i] = Slice(leaves[i], ranks, rank);
        return (def, shards);
    }

    static object? Shards(object? parameters, string axisName)
    {
        var (def, shards) = Shards(parameters, axisName, out _, out _);
        return Tree.Unflatten(def, shards);
    }

    // This rank's 1-D part of x's flattened elements (under Jit, dead code when nobody reads it).
    static Tensor Slice(Tensor x, int ranks, int rank)
    {
        var (start, count) = ShardLayout.Range(x.Shape.Size, ranks, rank);
        return Lax.SliceInDim(x.Reshape(-1), start, start + count);
    }

    static (object? Updates, object? State) Update(
        GradientTransformation inner, string axisName, string who, object? grads, object? state, object? parameters)
    {
        var s = state as ZeroRedundancyState
            ?? throw new ArgumentException(
                $"{who}: expected a ZeroRedundancyState (from Init), got {state?.GetType().Name ?? "null"}");
        var (g, def) = Tree.Flatten(grads);
        foreach (var (leaf, i) in g.Select((leaf, i) => (leaf, i)))
            if (!leaf.DType.IsFloat())
                throw new ArgumentException(
                    $"{who}: gradient leaf {def.LeafPaths[i]} is {leaf.Aval}; sharded updates need float gradients");
        object? paramShards = null;
        if (parameters is not null)
        {
            var (pdef, shards) = Shards(parameters, axisName, out _, out _);
            Tree.CheckSame(pdef, def, who, "the parameters", "the gradients");
            paramShards = Tree.Unflatten(pdef, shards);
        }
        int n = Transforms.AxisSize(axisName);
        var sums = ShardCollectives.PsumScatter(g, axisName);
        var means = sums.Select(x => Lax.Div(x, Np.FullLike(x, n))).ToArray(); // fused into the optimizer's pass
        var (updates, inner2) = inner.Update(Tree.Unflatten(def, means), s.Inner, paramShards);
        var (u, udef) = Tree.Flatten(updates);
        Tree.CheckSame(def, udef, who, "the gradients", "the wrapped transformation's updates");
        var full = ShardCollectives.AllGather(u, g.Select(x => x.Shape).ToArray(), axisName);
        return (Tree.Unflatten(def, full), new ZeroRedundancyState(inner2));
    }

    /// <summary>
    /// The wrapped transformation's full state (the tree <c>inner.Init(parameters)</c> has, the same
    /// on every rank) assembled from every rank's <see cref="ZeroRedundancyState"/>: a collective,
    /// called by all ranks (e.g. before rank 0 writes a checkpoint, which is then the same as the
    /// unsharded optimizer's). Eager.
    /// </summary>
    public static object? GatherState(object? state, GradientTransformation inner, object? parameters, string axisName)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var s = state as ZeroRedundancyState
            ?? throw new ArgumentException(
                $"ZeroRedundancyOptimizer.GatherState: expected a ZeroRedundancyState, got {state?.GetType().Name ?? "null"}");
        var (full, fdef) = Tree.Flatten(inner.Init(parameters));
        var (mine, mdef) = Tree.Flatten(s.Inner);
        Tree.CheckSame(fdef, mdef, "ZeroRedundancyOptimizer.GatherState", "the full state", "the sharded state");
        var axis = ProcessAxes.Find(axisName)
            ?? throw new ArgumentException($"ZeroRedundancyOptimizer.GatherState: '{axisName}' is not a process axis");
        var (n, r) = (axis.Size, axis.Index);
        var sharded = Enumerable.Range(0, full.Length).Where(j => IsShard(mine[j].Shape, full[j].Shape, n, r)).ToArray();
        var gathered = ShardCollectives.AllGather(
            sharded.Select(j => mine[j]).ToArray(), sharded.Select(j => full[j].Shape).ToArray(), axisName);
        var outs = mine.ToArray();
        for (int k = 0; k < sharded.Length; k++) outs[sharded[k]] = gathered[k];
        return Tree.Unflatten(fdef, outs);
    }

    /// <summary>
    /// This rank's <see cref="ZeroRedundancyState"/> cut from a full state of the wrapped
    /// transformation (from <see cref="GatherState"/> or an unsharded optimizer's checkpoint, the
    /// same on every rank). Local: no communication. Eager.
    /// </summary>
    public static ZeroRedundancyState ShardState(
        object? fullState, GradientTransformation inner, object? parameters, string axisName)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var (def, shards) = Shards(parameters, axisName, out int n, out int r);
        var (template, tdef) = Tree.Flatten(inner.Init(Tree.Unflatten(def, shards)));
        var (full, fdef) = Tree.Flatten(fullState);
        Tree.CheckSame(tdef, fdef, "ZeroRedundancyOptimizer.ShardState", "the sharded state", "the full state");
        var outs = new Tensor[full.Length];
        for (int j = 0; j < full.Length; j++)
        {
            if (IsShard(template[j].Shape, full[j].Shape, n, r)) outs[j] = Slice(full[j], n, r);
            else if (template[j].Shape == full[j].Shape) outs[j] = full[j];
            else throw new ArgumentException(
                $"ZeroRedundancyOptimizer.ShardState: state leaf {fdef.LeafPaths[j]} has shape {full[j].Shape}, "
                + $"which is neither this rank's shard shape {template[j].Shape} nor a tensor it is a shard of");
        }
        return new ZeroRedundancyState(Tree.Unflatten(tdef, outs));
    }

    // A state leaf is a shard of a full leaf when it is 1-D with this rank's length of it and the
    // full leaf is not that same 1-D shape on every rank (then it is replicated, like a count).
    static bool IsShard(Shape shard, Shape full, int n, int r)
    {
        if (shard.Rank != 1 || shard[0] != ShardLayout.Range(full.Size, n, r).Count) return false;
        return !(full.Rank == 1 && ShardLayout.Counts(full.Size, n).All(c => c == full[0]));
    }
}
