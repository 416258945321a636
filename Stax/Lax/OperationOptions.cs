namespace Stax;

// Options and dimension numbers that Lax operations take (the parameter records built from them
// live with the primitives in Stax.Extend).

/// <summary>How <c>round</c> breaks ties.</summary>
public enum RoundingMethod
{
    /// <summary>Halves round away from zero (lax.round's default, C#'s MidpointRounding.AwayFromZero).</summary>
    AwayFromZero,
    /// <summary>Halves round to the even neighbour (NumPy's and jnp.round's rule).</summary>
    ToNearestEven,
}

/// <summary>
/// How gather and scatter treat indices that would reach outside the operand (jax's
/// <c>GatherScatterMode</c>).
/// </summary>
public enum GatherScatterMode
{
    /// <summary>Indices are clamped so that the whole slice (or update window) lies in bounds.</summary>
    Clip,
    /// <summary>
    /// Gather: a slice that would reach out of bounds anywhere is returned entirely filled with the
    /// fill value. Scatter: an update window that would reach out of bounds is dropped entirely.
    /// This is jax's default for scatters and for jnp.take (jax.lax.gather and <c>x[i]</c> default
    /// to <see cref="PromiseInBounds"/>).
    /// </summary>
    FillOrDrop,
    /// <summary>
    /// The caller promises the indices are in bounds. As with XLA in practice, out-of-bounds gathers
    /// are clamped (like <see cref="Clip"/>) and out-of-bounds scatters are dropped (like <see cref="FillOrDrop"/>).
    /// </summary>
    PromiseInBounds,
    /// <summary>
    /// <see cref="Np.Take"/> only (jnp.take's <c>mode='wrap'</c>): indices are reduced modulo the
    /// axis size (<c>jnp.mod</c>, so -1 is the last element) and then gathered in bounds. The
    /// gather and scatter primitives do not accept it.
    /// </summary>
    Wrap,
}

/// <summary>
/// XLA's gather dimension numbers (with jax's convention that the index vector is the last
/// dimension of the indices).
/// </summary>
/// <param name="OffsetDims">Output dimensions (ascending) that hold the non-collapsed, non-batching dimensions of the slice, in operand order.</param>
/// <param name="CollapsedSliceDims">Operand dimensions (ascending) with slice size 1 that do not appear in the output.</param>
/// <param name="StartIndexMap">For each component of the index vector, the operand dimension it starts the slice in.</param>
/// <param name="OperandBatchingDims">Operand dimensions (ascending) that are batch dimensions: the slice starts at the batch position of the paired indices dimension.</param>
/// <param name="StartIndicesBatchingDims">The indices dimensions paired with <paramref name="OperandBatchingDims"/>.</param>
public sealed record GatherDimensionNumbers(IntTuple OffsetDims, IntTuple CollapsedSliceDims, IntTuple StartIndexMap,
    IntTuple OperandBatchingDims = default, IntTuple StartIndicesBatchingDims = default)
{
    /// <inheritdoc/>
    public override string ToString()
        => $"GatherDimensionNumbers(offset_dims={OffsetDims}, collapsed_slice_dims={CollapsedSliceDims}, start_index_map={StartIndexMap}, " +
           $"operand_batching_dims={OperandBatchingDims}, start_indices_batching_dims={StartIndicesBatchingDims})";
}

/// <summary>
/// XLA's scatter dimension numbers (with jax's convention that the index vector is the last
/// dimension of the indices).
/// </summary>
/// <param name="UpdateWindowDims">Updates dimensions (ascending) that are window dimensions, mapped in order to the operand dimensions not inserted and not batching.</param>
/// <param name="InsertedWindowDims">Operand dimensions (ascending) where the window has implicit size 1.</param>
/// <param name="ScatterDimsToOperandDims">For each component of the index vector, the operand dimension it indexes.</param>
/// <param name="OperandBatchingDims">Operand dimensions (ascending) that are batch dimensions, paired with <paramref name="ScatterIndicesBatchingDims"/>.</param>
/// <param name="ScatterIndicesBatchingDims">The indices dimensions paired with <paramref name="OperandBatchingDims"/>.</param>
public sealed record ScatterDimensionNumbers(IntTuple UpdateWindowDims, IntTuple InsertedWindowDims, IntTuple ScatterDimsToOperandDims,
    IntTuple OperandBatchingDims = default, IntTuple ScatterIndicesBatchingDims = default)
{
    /// <inheritdoc/>
    public override string ToString()
        => $"ScatterDimensionNumbers(update_window_dims={UpdateWindowDims}, inserted_window_dims={InsertedWindowDims}, " +
           $"scatter_dims_to_operand_dims={ScatterDimsToOperandDims}, operand_batching_dims={OperandBatchingDims}, " +
           $"scatter_indices_batching_dims={ScatterIndicesBatchingDims})";
}

/// <summary>
/// Dimension numbers of a convolution, like JAX's <c>ConvDimensionNumbers</c>: each spec lists
/// dimension indices. <see cref="LhsSpec"/> = (batch, feature, spatial...), <see cref="RhsSpec"/> =
/// (output feature, input feature, spatial...), <see cref="OutSpec"/> = (batch, feature, spatial...).
/// </summary>
public sealed record ConvDimensionNumbers(IntTuple LhsSpec, IntTuple RhsSpec, IntTuple OutSpec)
{
    /// <summary>The default NCHW / OIHW / NCHW numbering for <paramref name="rank"/>-dimensional operands.</summary>
    public static ConvDimensionNumbers Default(int rank)
    {
        var ids = Enumerable.Range(0, rank).ToArray();
        return new(ids, ids, ids);
    }

    /// <summary>
    /// Builds dimension numbers from layout strings as <c>lax.conv_dimension_numbers</c> does, e.g.
    /// ("NHWC", "HWIO", "NHWC"): N/C (or O/I) name batch/feature, other letters name spatial
    /// dimensions, matched between the three specs by the order of letters in the rhs spec.
    /// </summary>
    public static ConvDimensionNumbers FromStrings(string lhs, string rhs, string outSpec)
    {
        const string op = "conv_dimension_numbers";
        if (lhs.Length != rhs.Length || lhs.Length != outSpec.Length)
            throw new ArgumentException($"{op}: specs must have equal lengths, got '{lhs}', '{rhs}', '{outSpec}'");
        static void Distinct(string s, string op)
        {
            if (s.Distinct().Count() != s.Length) throw new ArgumentException($"{op}: spec '{s}' repeats a letter");
        }
        Distinct(lhs, op); Distinct(rhs, op); Distinct(outSpec, op);
        int Find(string s, char c, string which)
        {
            int i = s.IndexOf(c);
            if (i < 0) throw new ArgumentException($"{op}: {which} spec '{s}' must contain '{c}'");
            return i;
        }
        // Spatial letters in the order they appear in the rhs spec (as JAX does).
        var spatial = rhs.Where(c => c != 'O' && c != 'I').ToArray();
        var l = new List<int> { Find(lhs, 'N', "lhs"), Find(lhs, 'C', "lhs") };
        var r = new List<int> { Find(rhs, 'O', "rhs"), Find(rhs, 'I', "rhs") };
        var o = new List<int> { Find(outSpec, 'N', "out"), Find(outSpec, 'C', "out") };
        foreach (var c in spatial)
        {
            l.Add(Find(lhs, c, "lhs"));
            r.Add(Find(rhs, c, "rhs"));
            o.Add(Find(outSpec, c, "out"));
        }
        return new(l.ToArray(), r.ToArray(), o.ToArray());
    }

    /// <inheritdoc/>
    public override string ToString() => $"ConvDimensionNumbers(lhs_spec={LhsSpec}, rhs_spec={RhsSpec}, out_spec={OutSpec})";
}

/// <summary>Which intermediates a checkpointed (rematerialized) function keeps for the backward pass.</summary>
public enum RematPolicy
{
    /// <summary>Keep only the inputs; recompute everything else in the backward pass (jax.checkpoint's default).</summary>
    SaveNothing,
    /// <summary>Also keep the results of matrix products (dot_general), recompute the rest (JAX's <c>dots_saveable</c>).</summary>
    SaveDots,
}
