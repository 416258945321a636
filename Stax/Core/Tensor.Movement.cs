namespace Stax;

public sealed partial class Tensor
{
    /// <summary>The tensor with its axes reversed (NumPy's <c>.T</c>; a matrix transpose for rank 2).</summary>
    public Tensor T => Np.Transpose(this);

    /// <summary>Permutes the axes (reverses them when none are given); negative axes count from the end.</summary>
    public Tensor Transpose(params int[] axes) => Np.Transpose(this, axes);

    /// <summary>Removes the given size-1 axes, or every size-1 axis when none are given.</summary>
    public Tensor Squeeze(params int[] axes) => Np.Squeeze(this, axes);

    /// <summary>Inserts size-1 axes at the given positions of the result.</summary>
    public Tensor ExpandDims(params int[] axes) => Np.ExpandDims(this, axes);

    /// <summary>The elements as a rank-1 tensor (row-major).</summary>
    public Tensor Flatten() => Lax.Reshape(this, new Shape(checked((int)Size)));

    /// <summary>Swaps two axes.</summary>
    public Tensor SwapAxes(int axis1, int axis2) => Np.SwapAxes(this, axis1, axis2);
}
