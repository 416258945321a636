namespace Stax;

public sealed partial class Tensor
{
    /// <summary>Sum over <paramref name="axis"/> (null: all axes); see <see cref="Np.Sum(Tensor, int[], bool, DType?)"/>.</summary>
    public Tensor Sum(int[]? axis = null, bool keepdims = false) => Np.Sum(this, axis, keepdims);
    /// <summary>Sum over one axis.</summary>
    public Tensor Sum(int axis, bool keepdims = false) => Np.Sum(this, axis, keepdims);
    /// <summary>Product over <paramref name="axis"/> (null: all axes).</summary>
    public Tensor Prod(int[]? axis = null, bool keepdims = false) => Np.Prod(this, axis, keepdims);
    /// <summary>Product over one axis.</summary>
    public Tensor Prod(int axis, bool keepdims = false) => Np.Prod(this, axis, keepdims);
    /// <summary>Mean over <paramref name="axis"/> (null: all axes).</summary>
    public Tensor Mean(int[]? axis = null, bool keepdims = false) => Np.Mean(this, axis, keepdims);
    /// <summary>Mean over one axis.</summary>
    public Tensor Mean(int axis, bool keepdims = false) => Np.Mean(this, axis, keepdims);
    /// <summary>Variance over <paramref name="axis"/> (null: all axes).</summary>
    public Tensor Var(int[]? axis = null, int ddof = 0, bool keepdims = false) => Np.Var(this, axis, ddof, keepdims);
    /// <summary>Standard deviation over <paramref name="axis"/> (null: all axes).</summary>
    public Tensor Std(int[]? axis = null, int ddof = 0, bool keepdims = false) => Np.Std(this, axis, ddof, keepdims);
    /// <summary>Maximum over <paramref name="axis"/> (null: all axes).</summary>
    public Tensor Max(int[]? axis = null, bool keepdims = false) => Np.Max(this, axis, keepdims);
    /// <summary>Maximum over one axis.</summary>
    public Tensor Max(int axis, bool keepdims = false) => Np.Max(this, axis, keepdims);
    /// <summary>Minimum over <paramref name="axis"/> (null: all axes).</summary>
    public Tensor Min(int[]? axis = null, bool keepdims = false) => Np.Min(this, axis, keepdims);
    /// <summary>Minimum over one axis.</summary>
    public Tensor Min(int axis, bool keepdims = false) => Np.Min(this, axis, keepdims);
    /// <summary>Index of the maximum along <paramref name="axis"/> (null: of the flattened tensor).</summary>
    public Tensor Argmax(int? axis = null, bool keepdims = false) => Np.Argmax(this, axis, keepdims);
    /// <summary>Index of the minimum along <paramref name="axis"/> (null: of the flattened tensor).</summary>
    public Tensor Argmin(int? axis = null, bool keepdims = false) => Np.Argmin(this, axis, keepdims);
    /// <summary>True where all elements over <paramref name="axis"/> are nonzero.</summary>
    public Tensor All(int[]? axis = null, bool keepdims = false) => Np.All(this, axis, keepdims);
    /// <summary>True where any element over <paramref name="axis"/> is nonzero.</summary>
    public Tensor Any(int[]? axis = null, bool keepdims = false) => Np.Any(this, axis, keepdims);
    /// <summary>Inclusive cumulative sum along <paramref name="axis"/> (null: of the flattened tensor).</summary>
    public Tensor CumSum(int? axis = null) => Np.CumSum(this, axis);
}
