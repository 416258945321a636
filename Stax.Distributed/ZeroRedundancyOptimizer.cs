using Stax.Optim;

namespace Stax.Distributed;

/// <summary>
/// Optimizer-state sharding (ZeRO stage 1, PyTorch's <c>ZeroRedundancyOptimizer</c>) over the
/// process axis: every rank keeps the optimizer state of, and updates, only its part of each
/// parameter's flattened elements (<see cref="ShardLayout"/>). One step: the local gradients summed
/// over the ranks, each rank receiving its shard (<c>psum_scatter_fused</c>), divided by the number
/// of ranks (the mean, as <see cref="GradientFusion.Pmean{T}"/>); the wrapped transformation's
/// update of the shards, added to the rank's parameter shards; the new parameter shards gathered
/// into the full parameters on every rank (<c>all_gather_fused</c>). The same bytes move as with an
/// all-reduce; each rank runs 1/n of the optimizer's elementwise work and holds 1/n of its state
/// (plus its 1/n of the parameters); every rank receives the same gathered bytes, so the
/// parameters stay bit-identical on all ranks.
/// <code>var tx = ZeroRedundancyOptimizer.Create(Optax.Adam(1e-3), "batch");  // or Distributed.ShardOptimizer(...)
/// var state = TrainState.Create(parameters, tx);        // each rank: state for its shards
/// // in the jitted step: the local gradients, not their mean
/// return (ZeroRedundancyOptimizer.ApplyGradients(s, grads), Transforms.Pmean(loss, "batch"));</code>
/// <c>s.ApplyGradients(grads)</c> (TrainState's own) also works: the transformation then returns the
/// gathered <em>updates</em>, which it adds to the full parameters, a pass over every parameter on
/// every rank that <see cref="ApplyGradients"/> avoids. The wrapped transformation sees a tree of
/// the parameters' structure whose leaves are 1-D shards, so it must act elementwise on
/// parameter-shaped tensors (SGD, momentum, Adam, AdamW, RMSProp, Adagrad, weight decay, masks by
/// path, ...); transformations that look at a whole tensor or at all of them (global-norm clipping,
/// Adafactor's factored moments, LAMB/LARS trust ratios) would see only this rank's shard: not
/// supported. Gradients are float tensors. No differentiation or Vmap through the step's update.
/// </summary>
public static class ZeroRedundancyOptimizer
{
    // The wrapped transformation and axis of every transformation Create made (for ApplyGradients).
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<GradientTransformation, Wrapped> Made = new();

    sealed record Wrapped(GradientTransformation Inner, string AxisName);

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
        var tx = new GradientTransformation(
            p =>
            {
                var shards = Shards(p, axisName);
                return new ZeroRedundancyState(inner.Init(shards), shards);
            },
            (u, s, p) =>
            {
                var (updates, _, next) = Step(inner, axisName, who, u, s, gatherParams: false);
                return (updates, next);
            },
            $"zero_redundancy({inner.Name})");
        Made.Add(tx, new Wrapped(inner, axisName));
        return tx;
    }

    /// <summary>
    /// One step of <paramref name="state"/>'s sharded optimizer (its <c>Tx</c> from
    /// <see cref="Create"/>) with this rank's local <paramref name="grads"/>: <c>Step</c> + 1, the
    /// gathered new parameters (this rank's shards updated here, the others' received) and the new
    /// sharded state. Equal to <c>state.ApplyGradients(grads)</c> without its pass over the full parameters.
    /// </summary>
    public static TrainState ApplyGradients(TrainState state, object? grads)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!Made.TryGetValue(state.Tx, out var w))
            throw new ArgumentException(
                $"ZeroRedundancyOptimizer.ApplyGradients: the state's optimizer {state.Tx.Name} "
                + "was not made by ZeroRedundancyOptimizer.Create");
        var (_, parameters, next) = Step(w.Inner, w.AxisName, $"ZeroRedundancyOptimizer({w.Inner.Name})", grads, state.OptState,
            gatherParams: true);
        // In the parameters' own containers (Step built the tree from the gradients').
        var rebuilt = Tree.Unflatten(Tree.Structure(state.Params), Tree.Leaves(parameters));
        return state with { Step = state.Step + 1, Params = rebuilt, OptState = next };
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

    // This rank's 1-D part of x's flattened elements.
    static Tensor Slice(Tensor x, int ranks, int rank)
    {
        var (start, count) = ShardLayout.Range(x.Shape.Size, ranks, rank);
        return Lax.SliceInDim(x.Reshape(-1), start, start + count);
    }

    // Scatter the mean gradient, update the shards, gather either the updates or the new parameters.
    static (object? Updates, object? Params, ZeroRedundancyState Next) Step(
        GradientTransformation inner, string axisName, string who, object? grads, object? state, bool gatherParams)
    {
        var s = state as ZeroRedundancyState
            ?? throw new ArgumentException(
                $"{who}: expected a ZeroRedundancyState (from Init), got {state?.GetType().Name ?? "null"}");
        var (g, def) = Tree.Flatten(grads);
        for (int i = 0; i < g.Length; i++)
            if (!g[i].DType.IsFloat())
                throw new ArgumentException(
                    $"{who}: gradient leaf {def.LeafPaths[i]} is {g[i].Aval}; sharded updates need float gradients");
        var (ps, pdef) = Tree.Flatten(s.Params);
        Tree.CheckSame(pdef, def, who, "the parameters", "the gradients");
        int n = Transforms.AxisSize(axisName);
        var sums = ShardCollectives.PsumScatter(g, axisName);
        var means = sums.Select(x => Lax.Div(x, Np.FullLike(x, n))).ToArray(); // fused into the optimizer's pass
        var (updates, inner2) = inner.Update(Tree.Unflatten(def, means), s.Inner, s.Params);
        var (u, udef) = Tree.Flatten(updates);
        Tree.CheckSame(def, udef, who, "the gradients", "the wrapped transformation's updates");
        var newShards = Optax.ApplyUpdates(s.Params, updates);
        var next = new ZeroRedundancyState(inner2, newShards);
        var shapes = g.Select(x => x.Shape).ToArray();
        if (gatherParams)
            return (null, Tree.Unflatten(def, ShardCollectives.AllGather(Tree.Leaves(newShards), shapes, axisName)), next);
        return (Tree.Unflatten(def, ShardCollectives.AllGather(u, shapes, axisName)), null, next);
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
        var (full, fdef, sharded) = Layout(inner, parameters, axisName, out _, out _);
        var (mine, mdef) = Tree.Flatten(s.Inner); // the parameter shards are not state: the parameters hold them
        Tree.CheckSame(fdef, mdef, "ZeroRedundancyOptimizer.GatherState", "the full state", "the sharded state");
        var which = Enumerable.Range(0, full.Count).Where(j => sharded[j]).ToArray();
        var gathered = ShardCollectives.AllGather(
            which.Select(j => mine[j]).ToArray(), which.Select(j => full[j].Shape).ToArray(), axisName);
        var outs = mine.ToArray();
        for (int k = 0; k < which.Length; k++) outs[which[k]] = gathered[k];
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
        var (expected, edef, sharded) = Layout(inner, parameters, axisName, out int n, out int r);
        var (full, fdef) = Tree.Flatten(fullState);
        Tree.CheckSame(edef, fdef, "ZeroRedundancyOptimizer.ShardState", "the optimizer's state", "the given state");
        var outs = new Tensor[full.Length];
        for (int j = 0; j < full.Length; j++)
        {
            if (full[j].Shape != expected[j].Shape)
                throw new ArgumentException(
                    $"ZeroRedundancyOptimizer.ShardState: state leaf {fdef.LeafPaths[j]} has shape {full[j].Shape}, "
                    + $"the optimizer's full state has {expected[j].Shape}");
            outs[j] = sharded[j] ? Slice(full[j], n, r) : full[j];
        }
        var (def, shards) = Shards(parameters, axisName, out _, out _);
        return new ZeroRedundancyState(Tree.Unflatten(fdef, outs), Tree.Unflatten(def, shards));
    }

    // The full state's leaf types and which leaves are sharded: a leaf whose shape in the state for
    // some rank's shards differs from its full shape (shapes only, traced for every rank, so every
    // rank decides alike; a replicated leaf such as Adam's count has the same shape for all).
    static (IReadOnlyList<AbstractValue> Full, TreeDef Def, bool[] Sharded) Layout(
        GradientTransformation inner, object? parameters, string axisName, out int ranks, out int rank)
    {
        var axis = ProcessAxes.Find(axisName)
            ?? throw new ArgumentException($"ZeroRedundancyOptimizer: '{axisName}' is not a process axis");
        (ranks, rank) = (axis.Size, axis.Index);
        var (leaves, def) = Tree.Flatten(parameters);
        ShapeTree Init(Func<Tensor, AbstractValue> aval) =>
            Transforms.EvalShape<object?, object?>(p => inner.Init(p), new ShapeTree(def, leaves.Select(aval).ToArray()));
        var full = Init(l => l.Aval);
        var sharded = new bool[full.Leaves.Count];
        int n = ranks;
        for (int k = 0; k < n; k++)
        {
            var t = Init(l => l.Aval with { Shape = new Shape(ShardLayout.Range(l.Shape.Size, n, k).Count) });
            for (int j = 0; j < sharded.Length; j++) sharded[j] |= t.Leaves[j].Shape != full.Leaves[j].Shape;
        }
        return (full.Leaves, full.Def, sharded);
    }
}
