namespace Stax.Extend;

/// <summary>
/// Parameters of <c>dot_general</c> (as <c>jax.lax.dot_general</c>): contracting and batch
/// dimensions of each operand and an optional result dtype. The output has the batch dimensions
/// first (in the order given), then the free dimensions of the lhs, then those of the rhs.
/// </summary>
public sealed record DotGeneralParams(IntTuple LhsContracting, IntTuple RhsContracting, IntTuple LhsBatch, IntTuple RhsBatch,
    DType? PreferredElementType = null) : Params
{
    /// <summary>Plain matrix product parameters: contract lhs dimension 1 with rhs dimension 0.</summary>
    public static DotGeneralParams MatMul => new(new[] { 1 }, new[] { 0 }, Array.Empty<int>(), Array.Empty<int>());

    /// <inheritdoc/>
    public override string ToString()
        => $"dimension_numbers=(({List(LhsContracting)}, {List(RhsContracting)}), ({List(LhsBatch)}, {List(RhsBatch)}))"
           + $" preferred_element_type={(PreferredElementType is { } t ? t.Name() : "None")}";

    static string List(IntTuple t) => "[" + string.Join(", ", t.ToArray()) + "]";
}

/// <summary>
/// Parameters of <c>conv_general_dilated</c> (as <c>jax.lax.conv_general_dilated</c>). Padding is
/// given per spatial dimension as low and high amounts (negative values crop, as in XLA).
/// </summary>
public sealed record ConvParams(IntTuple WindowStrides, IntTuple PaddingLow, IntTuple PaddingHigh, IntTuple LhsDilation,
    IntTuple RhsDilation, ConvDimensionNumbers DimensionNumbers, int FeatureGroupCount = 1, int BatchGroupCount = 1,
    DType? PreferredElementType = null) : Params
{
    /// <inheritdoc/>
    public override string ToString()
    {
        var pads = string.Join(", ", Enumerable.Range(0, PaddingLow.Length).Select(i => $"({PaddingLow[i]}, {PaddingHigh[i]})"));
        return $"window_strides={WindowStrides} padding=({pads}{(PaddingLow.Length == 1 ? "," : "")}) lhs_dilation={LhsDilation} "
            + $"rhs_dilation={RhsDilation} dimension_numbers={DimensionNumbers} feature_group_count={FeatureGroupCount} "
            + $"batch_group_count={BatchGroupCount} preferred_element_type={(PreferredElementType is { } t ? t.Name() : "None")}";
    }
}

public static partial class Prims
{
    static bool DotSupported(DType t) => t is DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16 or DType.Int32;

    static DType DotResultType(string op, AbstractValue lhs, AbstractValue rhs, DType? preferred)
    {
        if (lhs.DType != rhs.DType)
            throw new ArgumentException($"{op}: operand dtypes must be equal, got {lhs.DType.Name()} {lhs.Shape} and {rhs.DType.Name()} {rhs.Shape} (use Np functions for type promotion)");
        if (!DotSupported(lhs.DType))
            throw new ArgumentException($"{op}: dtype {lhs.DType.Name()} is not supported; expected float32, float64, float16, bfloat16 or int32");
        if (preferred is not { } p) return lhs.DType;
        if (!DotSupported(p) || (lhs.DType.IsFloat() && !p.IsFloat()))
            throw new ArgumentException($"{op}: preferred_element_type {p.Name()} is not valid for {lhs.DType.Name()} operands");
        return p;
    }

    /// <summary>Checks dot_general dimension numbers against operand shapes and returns the output shape.</summary>
    public static Shape DotGeneralShape(Shape lhs, Shape rhs, DotGeneralParams p)
    {
        const string op = "dot_general";
        if (p.LhsContracting.Length != p.RhsContracting.Length)
            throw new ArgumentException($"{op}: lhs and rhs must have the same number of contracting dimensions, got {p.LhsContracting} and {p.RhsContracting}");
        if (p.LhsBatch.Length != p.RhsBatch.Length)
            throw new ArgumentException($"{op}: lhs and rhs must have the same number of batch dimensions, got {p.LhsBatch} and {p.RhsBatch}");
        void CheckDims(string side, Shape s, IntTuple contracting, IntTuple batch)
        {
            var seen = new bool[s.Rank];
            foreach (var (name, dims) in new[] { ("contracting", contracting), ("batch", batch) })
                foreach (var d in dims.Span)
                {
                    if (d < 0 || d >= s.Rank)
                        throw new ArgumentException($"{op}: {side} {name} dimension {d} is out of range for {side} shape {s} (rank {s.Rank})");
                    if (seen[d])
                        throw new ArgumentException($"{op}: {side} dimension {d} appears more than once in contracting {contracting} and batch {batch} dimensions");
                    seen[d] = true;
                }
        }
        CheckDims("lhs", lhs, p.LhsContracting, p.LhsBatch);
        CheckDims("rhs", rhs, p.RhsContracting, p.RhsBatch);
        for (int i = 0; i < p.LhsBatch.Length; i++)
            if (lhs[p.LhsBatch[i]] != rhs[p.RhsBatch[i]])
                throw new ArgumentException($"{op}: batch dimension sizes must match, got lhs {lhs} batch dims {p.LhsBatch} and rhs {rhs} batch dims {p.RhsBatch}");
        for (int i = 0; i < p.LhsContracting.Length; i++)
            if (lhs[p.LhsContracting[i]] != rhs[p.RhsContracting[i]])
                throw new ArgumentException($"{op}: contracting dimension sizes must match, got lhs {lhs} contracting dims {p.LhsContracting} and rhs {rhs} contracting dims {p.RhsContracting}");
        var dims = new List<int>();
        foreach (var d in p.LhsBatch.Span) dims.Add(lhs[d]);
        for (int d = 0; d < lhs.Rank; d++) if (!p.LhsBatch.Contains(d) && !p.LhsContracting.Contains(d)) dims.Add(lhs[d]);
        for (int d = 0; d < rhs.Rank; d++) if (!p.RhsBatch.Contains(d) && !p.RhsContracting.Contains(d)) dims.Add(rhs[d]);
        return new Shape(dims.ToArray());
    }

    /// <summary>
    /// General dot product (<c>jax.lax.dot_general</c>): sums products over the contracting
    /// dimensions, elementwise over the batch dimensions. Output: batch dims, lhs free dims, rhs free dims.
    /// Supports float32, float64, float16/bfloat16 (accumulated in float32) and int32 (wrapping).
    /// </summary>
    public static readonly Primitive DotGeneral = new("dot_general", PrimitiveFamily.Dot, (ins, p) =>
    {
        var d = (DotGeneralParams)p;
        var dt = DotResultType("dot_general", ins[0], ins[1], d.PreferredElementType);
        var shape = DotGeneralShape(ins[0].Shape, ins[1].Shape, d);
        return new[] { new AbstractValue(shape, dt) };
    }, inputs: 2);

    /// <summary>Checks convolution parameters against operand shapes and returns the output shape.</summary>
    public static Shape ConvShape(Shape lhs, Shape rhs, ConvParams p)
    {
        const string op = "conv_general_dilated";
        if (lhs.Rank != rhs.Rank || lhs.Rank < 2)
            throw new ArgumentException($"{op}: lhs and rhs must have the same rank of at least 2, got lhs {lhs} and rhs {rhs}");
        int rank = lhs.Rank, ns = rank - 2;
        var dn = p.DimensionNumbers;
        void CheckSpec(string name, IntTuple spec)
        {
            if (spec.Length != rank || spec.ToArray().OrderBy(x => x).Where((x, i) => x != i).Any())
                throw new ArgumentException($"{op}: {name} {spec} must be a permutation of 0..{rank - 1} for operands of rank {rank}");
        }
        CheckSpec("lhs_spec", dn.LhsSpec); CheckSpec("rhs_spec", dn.RhsSpec); CheckSpec("out_spec", dn.OutSpec);
        foreach (var (name, t) in new[] { ("window_strides", p.WindowStrides), ("padding", p.PaddingLow), ("padding", p.PaddingHigh), ("lhs_dilation", p.LhsDilation), ("rhs_dilation", p.RhsDilation) })
            if (t.Length != ns)
                throw new ArgumentException($"{op}: {name} {t} must have one entry per spatial dimension ({ns}) of lhs {lhs}");
        for (int i = 0; i < ns; i++)
        {
            if (p.WindowStrides[i] < 1) throw new ArgumentException($"{op}: window_strides {p.WindowStrides} must be positive");
            if (p.LhsDilation[i] < 1) throw new ArgumentException($"{op}: lhs_dilation {p.LhsDilation} must be positive");
            if (p.RhsDilation[i] < 1) throw new ArgumentException($"{op}: rhs_dilation {p.RhsDilation} must be positive");
        }
        int G = p.FeatureGroupCount, B = p.BatchGroupCount;
        if (G < 1 || B < 1)
            throw new ArgumentException($"{op}: feature_group_count ({G}) and batch_group_count ({B}) must be positive");
        if (G > 1 && B > 1)
            throw new ArgumentException($"{op}: at most one of feature_group_count ({G}) and batch_group_count ({B}) may exceed 1");
        int n = lhs[dn.LhsSpec[0]], c = lhs[dn.LhsSpec[1]], o = rhs[dn.RhsSpec[0]], ci = rhs[dn.RhsSpec[1]];
        if (c % G != 0)
            throw new ArgumentException($"{op}: lhs feature dimension size {c} (lhs {lhs}) must be a multiple of feature_group_count {G}");
        if (c / G != ci)
            throw new ArgumentException($"{op}: lhs feature dimension size {c} divided by feature_group_count {G} must equal rhs input feature dimension size {ci} (lhs {lhs}, rhs {rhs})");
        if (o % G != 0)
            throw new ArgumentException($"{op}: rhs output feature dimension size {o} (rhs {rhs}) must be a multiple of feature_group_count {G}");
        if (n % B != 0)
            throw new ArgumentException($"{op}: lhs batch dimension size {n} (lhs {lhs}) must be a multiple of batch_group_count {B}");
        if (o % B != 0)
            throw new ArgumentException($"{op}: rhs output feature dimension size {o} (rhs {rhs}) must be a multiple of batch_group_count {B}");
        var outDims = new int[rank];
        outDims[dn.OutSpec[0]] = n / B;
        outDims[dn.OutSpec[1]] = o;
        for (int i = 0; i < ns; i++)
        {
            long inSize = lhs[dn.LhsSpec[2 + i]], k = rhs[dn.RhsSpec[2 + i]];
            long dilated = inSize == 0 ? 0 : (inSize - 1) * p.LhsDilation[i] + 1;
            long padded = dilated + p.PaddingLow[i] + p.PaddingHigh[i];
            long kd = k == 0 ? 0 : (k - 1) * p.RhsDilation[i] + 1;
            if (padded < 0)
                throw new ArgumentException($"{op}: padding ({p.PaddingLow[i]}, {p.PaddingHigh[i]}) removes more than the whole spatial dimension {i} of size {inSize} (lhs {lhs})");
            long outSize = padded < kd ? 0 : (padded - kd) / p.WindowStrides[i] + 1;
            if (outSize > int.MaxValue) throw new ArgumentException($"{op}: output spatial size {outSize} is too large");
            outDims[dn.OutSpec[2 + i]] = (int)outSize;
        }
        return new Shape(outDims);
    }

    /// <summary>
    /// General dilated convolution (<c>jax.lax.conv_general_dilated</c>) with strides, low/high
    /// padding, lhs (input, "transposed conv") and rhs (kernel, atrous) dilation, arbitrary dimension
    /// numbers, feature groups and batch groups. Computes a cross-correlation (the kernel is not flipped).
    /// </summary>
    public static readonly Primitive ConvGeneralDilated = new("conv_general_dilated", PrimitiveFamily.Window, (ins, p) =>
    {
        var c = (ConvParams)p;
        var dt = DotResultType("conv_general_dilated", ins[0], ins[1], c.PreferredElementType);
        var shape = ConvShape(ins[0].Shape, ins[1].Shape, c);
        return new[] { new AbstractValue(shape, dt) };
    }, inputs: 2);
}
