namespace Stax.Distributed;

/// <summary>
/// Parameters of <c>psum_scatter_fused</c> and <c>all_gather_fused</c>: the process axis, its size,
/// this process's index on it (a shard's length depends on it, see <see cref="ShardLayout"/>) and
/// the full shapes of the sharded tensors (the operands of the scatter, the results of the gather).
/// Compares by value, shapes included, as the jit cache needs.
/// </summary>
public sealed record ShardParams(string AxisName, int AxisSize, int AxisIndex, IReadOnlyList<Shape> Shapes) : Params
{
    /// <summary>This rank's shard length of tensor <paramref name="i"/>.</summary>
    public int ShardSize(int i) => ShardLayout.Range(Shapes[i].Size, AxisSize, AxisIndex).Count;

    /// <inheritdoc/>
    public bool Equals(ShardParams? other) =>
        other is not null && AxisName == other.AxisName && AxisSize == other.AxisSize && AxisIndex == other.AxisIndex
        && Shapes.SequenceEqual(other.Shapes);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(AxisName);
        h.Add(AxisSize);
        h.Add(AxisIndex);
        foreach (var s in Shapes) h.Add(s);
        return h.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"axis_name={AxisName} axis_size={AxisSize} axis_index={AxisIndex} shapes=[{string.Join(", ", Shapes)}]";
}
