namespace Stax.Distributed;

/// <summary>
/// The two collectives of optimizer-state sharding (<see cref="ZeroRedundancyOptimizer"/>), over a
/// process axis, each on several tensors at once after one agreement check:
/// <list type="bullet">
/// <item><c>psum_scatter_fused</c>: every operand summed over the ranks; each rank keeps its part of
/// the flattened sum (a 1-D shard, see <see cref="ShardLayout"/>). MPI_Reduce_scatter per operand,
/// from the operand's buffer into the shard's: JAX's <c>psum_scatter</c> with <c>tiled=True</c> on
/// the flattened tensor, without padding to a multiple of the number of ranks.</item>
/// <item><c>all_gather_fused</c>: every rank's 1-D shards concatenated back into tensors of the full
/// shapes (MPI_Allgatherv straight into the result's buffer): the inverse split.</item>
/// </list>
/// Both are primitives, so a jitted step holds them as equations the compiled program calls. They
/// have no differentiation or batching rules (they move optimizer updates, not traced gradients).
/// </summary>
public static class ShardCollectives
{
    /// <summary><c>psum_scatter_fused</c>; parameters <see cref="ShardParams"/> (shapes = the operands').</summary>
    public static readonly Primitive Scatter = new("psum_scatter_fused", PrimitiveFamily.Control, (ins, ps) =>
    {
        var p = (ShardParams)ps;
        Expect("psum_scatter_fused", ins.Length, p);
        var outs = new AbstractValue[ins.Length];
        for (int i = 0; i < ins.Length; i++)
        {
            TypeRules.RequireKind("psum_scatter_fused", TypeRules.Kinds.Numeric, ins[i]);
            if (ins[i].Shape != p.Shapes[i])
                throw new ArgumentException(
                    $"psum_scatter_fused: operand {i} has shape {ins[i].Shape}, the parameters say {p.Shapes[i]}");
            outs[i] = ins[i] with { Shape = new Shape(p.ShardSize(i)) };
        }
        return outs;
    }, inputs: -1, multipleResults: true);

    /// <summary><c>all_gather_fused</c>; parameters <see cref="ShardParams"/> (shapes = the results').</summary>
    public static readonly Primitive Gather = new("all_gather_fused", PrimitiveFamily.Control, (ins, ps) =>
    {
        var p = (ShardParams)ps;
        Expect("all_gather_fused", ins.Length, p);
        var outs = new AbstractValue[ins.Length];
        for (int i = 0; i < ins.Length; i++)
        {
            if (ins[i].Shape != new Shape(p.ShardSize(i)))
                throw new ArgumentException(
                    $"all_gather_fused: operand {i} has shape {ins[i].Shape}, but rank {p.AxisIndex} of {p.AxisSize} owns "
                    + $"{p.ShardSize(i)} elements of a tensor of shape {p.Shapes[i]}");
            outs[i] = ins[i] with { Shape = p.Shapes[i] };
        }
        return outs;
    }, inputs: -1, multipleResults: true);

    static void Expect(string op, int operands, ShardParams p)
    {
        if (operands == 0) throw new ArgumentException($"{op}: needs at least one operand");
        if (operands != p.Shapes.Count)
            throw new ArgumentException($"{op}: {operands} operands but {p.Shapes.Count} shapes in the parameters");
    }

    static ShardCollectives()
    {
        Scatter.Impl = (args, ps) => Axis((ShardParams)ps, "psum_scatter_fused").EvaluateScatter(args, (ShardParams)ps);
        Gather.Impl = (args, ps) => Axis((ShardParams)ps, "all_gather_fused").EvaluateGather(args, (ShardParams)ps);
    }

    static MpiProcessAxis Axis(ShardParams p, string op) => ProcessAxes.Find(p.AxisName) as MpiProcessAxis
        ?? throw new ArgumentException(
            $"{op}: axis '{p.AxisName}' is not the process axis of Distributed.Initialize "
            + "(sharded collectives run over MPI ranks)");

    static ShardParams ParamsFor(string op, string axisName, IEnumerable<Shape> shapes)
    {
        ArgumentException.ThrowIfNullOrEmpty(axisName);
        if (FusedPsum.BoundByVmap(axisName))
            throw new NotSupportedException(
                $"{op}: axis '{axisName}' is bound by a Vmap; sharding works over the process axis of Distributed.Initialize");
        var axis = ProcessAxes.Find(axisName) as MpiProcessAxis
            ?? throw new ArgumentException($"{op}: '{axisName}' is not the process axis of Distributed.Initialize");
        return new ShardParams(axisName, axis.Size, axis.Index, shapes.ToArray());
    }

    /// <summary>
    /// The sum over <paramref name="axisName"/> of every operand, of which this rank gets its 1-D
    /// shard (<see cref="ShardLayout.Range"/> of the flattened tensor).
    /// </summary>
    public static Tensor[] PsumScatter(Tensor[] operands, string axisName)
    {
        ArgumentNullException.ThrowIfNull(operands);
        if (operands.Length == 0) return Array.Empty<Tensor>();
        return Scatter.Bind(ParamsFor("psum_scatter_fused", axisName, operands.Select(x => x.Shape)), operands);
    }

    /// <summary>
    /// The tensors of shapes <paramref name="shapes"/> of which every rank holds its 1-D shard in
    /// <paramref name="shards"/>, assembled on every rank.
    /// </summary>
    public static Tensor[] AllGather(Tensor[] shards, IReadOnlyList<Shape> shapes, string axisName)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(shapes);
        if (shards.Length == 0) return Array.Empty<Tensor>();
        return Gather.Bind(ParamsFor("all_gather_fused", axisName, shapes), shards);
    }
}
