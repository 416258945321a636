namespace Stax.Extend;

/// <summary>Parameters of <c>psum</c>, <c>pmax</c>, <c>pmin</c> and <c>axis_index</c>: the named vmap axis.</summary>
public sealed record CollectiveParams(string AxisName) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"axis_name={AxisName}";
}

/// <summary>Parameters of <c>all_gather</c> and <c>psum_scatter</c>: the named axis, its size, and the
/// operand dimension that is gathered into (all_gather) or scattered from (psum_scatter).</summary>
public sealed record AxisGatherParams(string AxisName, int AxisSize, int Dimension) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"axis_name={AxisName} axis_size={AxisSize} dimension={Dimension}";
}

// Evaluated (not batched) collectives reach ProcessAxes.Evaluate: the name is a process axis or
// unbound. (The field is set by the time its own Impl runs, hence the "!".)
public static partial class Prims
{
    static AbstractValue[] SameAval(string op, ReadOnlySpan<AbstractValue> ins)
    {
        TypeRules.RequireKind(op, TypeRules.Kinds.Numeric, ins[0]);
        return new[] { ins[0] };
    }

    /// <summary>Sum over a named vmap axis (see <see cref="Transforms.Psum"/>).</summary>
    public static readonly Primitive Psum = new("psum", PrimitiveFamily.Control, (ins, _) => SameAval("psum", ins), inputs: 1)
    {
        Impl = (a, p) => ProcessAxes.Evaluate(Psum!, ((CollectiveParams)p).AxisName, a, p),
    };

    /// <summary>Maximum over a named vmap axis (see <see cref="Transforms.Pmax"/>).</summary>
    public static readonly Primitive Pmax = new("pmax", PrimitiveFamily.Control, (ins, _) => SameAval("pmax", ins), inputs: 1)
    {
        Impl = (a, p) => ProcessAxes.Evaluate(Pmax!, ((CollectiveParams)p).AxisName, a, p),
    };

    /// <summary>Minimum over a named vmap axis (see <see cref="Transforms.Pmin"/>).</summary>
    public static readonly Primitive Pmin = new("pmin", PrimitiveFamily.Control, (ins, _) => SameAval("pmin", ins), inputs: 1)
    {
        Impl = (a, p) => ProcessAxes.Evaluate(Pmin!, ((CollectiveParams)p).AxisName, a, p),
    };

    /// <summary>Stacks every member's value along a new dimension (see <see cref="Transforms.AllGather"/>).</summary>
    public static readonly Primitive AllGather = new("all_gather", PrimitiveFamily.Control, (ins, ps) =>
    {
        var p = (AxisGatherParams)ps;
        var x = ins[0];
        if (p.Dimension < 0 || p.Dimension > x.Rank)
            throw new ArgumentException($"all_gather: dimension {p.Dimension} is out of range for an operand of rank {x.Rank} (shape {x.Shape}); expected 0..{x.Rank}");
        if (p.AxisSize < 0) throw new ArgumentException($"all_gather: axis size must be non-negative, got {p.AxisSize}");
        var dims = x.Shape.ToArray().ToList();
        dims.Insert(p.Dimension, p.AxisSize);
        return new[] { x with { Shape = new Shape(dims.ToArray()) } };
    }, inputs: 1)
    {
        Impl = (a, p) => ProcessAxes.Evaluate(AllGather!, ((AxisGatherParams)p).AxisName, a, p),
    };

    /// <summary>
    /// Sums every member's value over the named axis and gives member i the i-th slice along
    /// <see cref="AxisGatherParams.Dimension"/> (JAX's psum_scatter, not tiled): the transpose of all_gather.
    /// </summary>
    public static readonly Primitive PsumScatter = new("psum_scatter", PrimitiveFamily.Control, (ins, ps) =>
    {
        var p = (AxisGatherParams)ps;
        var x = ins[0];
        TypeRules.RequireKind("psum_scatter", TypeRules.Kinds.Numeric, x);
        if (p.Dimension < 0 || p.Dimension >= x.Rank)
            throw new ArgumentException($"psum_scatter: dimension {p.Dimension} is out of range for an operand of rank {x.Rank} (shape {x.Shape})");
        if (x.Shape[p.Dimension] != p.AxisSize)
            throw new ArgumentException($"psum_scatter: operand dimension {p.Dimension} of shape {x.Shape} must equal the size of axis '{p.AxisName}' ({p.AxisSize}), got {x.Shape[p.Dimension]}");
        var dims = x.Shape.ToArray().ToList();
        dims.RemoveAt(p.Dimension);
        return new[] { x with { Shape = new Shape(dims.ToArray()) } };
    }, inputs: 1)
    {
        Impl = (a, p) => ProcessAxes.Evaluate(PsumScatter!, ((AxisGatherParams)p).AxisName, a, p),
    };

    /// <summary>The int32 position of each member along a named vmap axis (see <see cref="Transforms.AxisIndex"/>).</summary>
    public static readonly Primitive AxisIndex = new("axis_index", PrimitiveFamily.Control,
        (_, _) => new[] { new AbstractValue(Shape.Scalar, DType.Int32) }, inputs: 0)
    {
        Impl = (a, p) => ProcessAxes.Evaluate(AxisIndex!, ((CollectiveParams)p).AxisName, a, p),
    };
}
