namespace Stax;

/// <summary>Parameters of <c>broadcast_in_dim</c>: operand dimension i becomes output dimension
/// <paramref name="BroadcastDimensions"/>[i] (size equal, or 1 to broadcast).</summary>
public sealed record BroadcastInDimParams(Shape Shape, IntTuple BroadcastDimensions) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"shape={Shape} broadcast_dimensions={BroadcastDimensions}";
}

/// <summary>Parameters of <c>reshape</c>.</summary>
public sealed record ReshapeParams(Shape NewSizes) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"new_sizes={NewSizes}";
}

public static partial class Prims
{
    /// <summary>Broadcasts to a shape, mapping operand dimensions to output dimensions.</summary>
    public static readonly Primitive BroadcastInDim = new("broadcast_in_dim", PrimitiveFamily.Movement, (ins, p) =>
    {
        var b = (BroadcastInDimParams)p;
        var x = ins[0];
        var dims = b.BroadcastDimensions;
        if (dims.Length != x.Rank)
            throw new ArgumentException($"broadcast_in_dim: broadcast_dimensions {dims} must have one entry per operand dimension of {x.Shape}");
        for (int i = 0; i < dims.Length; i++)
        {
            int d = dims[i];
            if (d < 0 || d >= b.Shape.Rank || (i > 0 && d <= dims[i - 1]))
                throw new ArgumentException($"broadcast_in_dim: broadcast_dimensions {dims} must be strictly increasing and within the rank of {b.Shape}");
            if (x.Shape[i] != 1 && x.Shape[i] != b.Shape[d])
                throw new ArgumentException($"broadcast_in_dim: operand shape {x.Shape} cannot broadcast to {b.Shape} with broadcast_dimensions {dims} (dimension {i} has size {x.Shape[i]}, target {b.Shape[d]})");
        }
        return new[] { new AbstractValue(b.Shape, x.DType, x.Weak) };
    }, inputs: 1);

    /// <summary>Reinterprets the row-major elements under a new shape with the same size.</summary>
    public static readonly Primitive Reshape = new("reshape", PrimitiveFamily.Movement, (ins, p) =>
    {
        var r = (ReshapeParams)p;
        if (r.NewSizes.Size != ins[0].Size)
            throw new ArgumentException($"reshape: cannot reshape {ins[0].Shape} ({ins[0].Size} elements) to {r.NewSizes} ({r.NewSizes.Size} elements)");
        return new[] { new AbstractValue(r.NewSizes, ins[0].DType, ins[0].Weak) };
    }, inputs: 1);
}
