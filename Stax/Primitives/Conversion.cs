namespace Stax.Extend;

/// <summary>Parameters of <c>convert_element_type</c>.</summary>
public sealed record ConvertParams(DType NewDType, bool Weak = false) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"new_dtype={NewDType.Name()} weak_type={Weak}";
}

/// <summary>Parameters of <c>bitcast_convert_type</c>.</summary>
public sealed record BitcastParams(DType NewDType) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"new_dtype={NewDType.Name()}";
}

/// <summary>Parameters of <c>iota</c>: values count along <paramref name="Dimension"/> of <paramref name="Shape"/>.</summary>
public sealed record IotaParams(DType DType, Shape Shape, int Dimension) : Params
{
    /// <inheritdoc/>
    public override string ToString() => $"dtype={DType.Name()} shape={Shape} dimension={Dimension}";
}

public static partial class Prims
{
    /// <summary>
    /// Converts elements to another dtype. Float to int truncates toward zero; values it cannot
    /// represent follow XLA's CPU backend (LLVM's fptosi/fptoui on x86-64): int32 gets int.MinValue
    /// for NaN, +-Inf and out-of-range values; uint32 keeps the low 32 bits of the truncated value
    /// (it wraps modulo 2^32; NaN, +-Inf and |x| &gt;= 2^63 give 0); uint8 keeps the low 8 bits of
    /// the int32 result (modulo 256 inside int32's range, else 0). Integer to integer wraps; to
    /// bool is x != 0; float to narrower float rounds to nearest even.
    /// </summary>
    public static readonly Primitive ConvertElementType = new("convert_element_type", PrimitiveFamily.Conversion, (ins, p) =>
    {
        var c = (ConvertParams)p;
        return new[] { new AbstractValue(ins[0].Shape, c.NewDType.Checked("convert_element_type"), c.Weak) };
    }, inputs: 1);

    /// <summary>Reinterprets the bits of each element as another dtype of the same width.</summary>
    public static readonly Primitive BitcastConvertType = new("bitcast_convert_type", PrimitiveFamily.Conversion, (ins, p) =>
    {
        var c = (BitcastParams)p;
        c.NewDType.Checked("bitcast_convert_type");
        if (c.NewDType.SizeOf() != ins[0].DType.SizeOf() || c.NewDType == DType.Bool || ins[0].DType == DType.Bool)
            throw new ArgumentException($"bitcast_convert_type: cannot bitcast {ins[0].DType.Name()} (shape {ins[0].Shape}) to {c.NewDType.Name()}; widths must match and bool is not allowed");
        return new[] { new AbstractValue(ins[0].Shape, c.NewDType) };
    }, inputs: 1);

    /// <summary>Counts 0, 1, 2, ... along one dimension of a new tensor.</summary>
    public static readonly Primitive Iota = new("iota", PrimitiveFamily.Conversion, (ins, p) =>
    {
        var c = (IotaParams)p;
        c.DType.Checked("iota");
        if (c.DType == DType.Bool)
            throw new ArgumentException("iota: dtype must be numeric, got bool");
        if (c.Dimension < 0 || c.Dimension >= c.Shape.Rank)
            throw new ArgumentException($"iota: dimension {c.Dimension} is out of range for shape {c.Shape}");
        return new[] { new AbstractValue(c.Shape, c.DType) };
    }, inputs: 0);
}
