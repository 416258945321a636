using System.Globalization;
using System.Text;

namespace Stax;

public sealed partial class Tensor : IFormattable
{
    /// <summary>Printing summarises tensors with more elements than this (NumPy's threshold).</summary>
    public const int PrintThreshold = 1000;
    const int EdgeItems = 3;

    /// <summary>
    /// NumPy-like text: <c>Tensor([[1., 2.], [3., 4.]], dtype=float32)</c> with aligned columns;
    /// tensors over <see cref="PrintThreshold"/> elements show three items at each edge and "...".
    /// A traced tensor prints its abstract value.
    /// </summary>
    public override string ToString()
    {
        if (Buffer == null) return $"Traced<{Aval}> under {Tracer!.Trace.TransformName}";
        var values = ToDoubleArray();
        bool summarize = Size > PrintThreshold;
        var dims = Shape.ToArray();
        var strides = Shape.Strides();
        // Column layout from the elements that will be shown: NumPy aligns floats on the point.
        int intWidth = 0, fracWidth = 0, width = 0;
        bool align = DType.IsFloat();
        foreach (var i in ShownIndices(dims, strides, summarize))
        {
            var s = FormatElement(values[i], DType);
            width = Math.Max(width, s.Length);
            int dot = s.IndexOf('.');
            if (dot < 0 || s.Contains('E')) { align &= s is "nan" or "inf" or "-inf"; if (dot < 0) { intWidth = Math.Max(intWidth, s.Length); continue; } }
            intWidth = Math.Max(intWidth, dot);
            fracWidth = Math.Max(fracWidth, s.Length - dot - 1);
        }
        string Fmt(double v)
        {
            var s = FormatElement(v, DType);
            if (!align) return s;
            int dot = s.IndexOf('.');
            return dot < 0 ? s.PadLeft(intWidth + 1 + fracWidth) : s[..dot].PadLeft(intWidth) + s[dot..].PadRight(fracWidth + 1);
        }
        align &= ShownIndices(dims, strides, summarize).Any(i => FormatElement(values[i], DType).Contains('.'));
        if (align) width = intWidth + 1 + fracWidth;
        var sb = new StringBuilder("Tensor(");
        int indent = sb.Length;
        Write(sb, values, dims, strides, 0, 0, summarize, width, indent, Fmt);
        sb.Append(", dtype=").Append(DType.Name());
        if (IsWeak) sb.Append(", weak_type=True");
        if (Size == 0) sb.Append(", shape=").Append(Shape);
        return sb.Append(')').ToString();
    }

    /// <summary>
    /// Formats every element with a .NET numeric format, e.g. <c>$"{loss:F4}"</c>: a scalar prints as
    /// the bare number (<c>0.1235</c>), other shapes as nested lists (<c>[1.00, 2.50]</c>). Without a
    /// format this is <see cref="ToString()"/>; a traced tensor prints its abstract value.
    /// </summary>
    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        if (string.IsNullOrEmpty(format) || Buffer == null) return ToString();
        var provider = formatProvider ?? CultureInfo.CurrentCulture;
        var dtype = DType;
        string Fmt(double v) => dtype == DType.Bool ? (v != 0 ? "True" : "False")
            : !dtype.IsFloat() ? ((long)v).ToString(format, provider)
            : dtype == DType.Float64 ? v.ToString(format, provider)
            : ((float)v).ToString(format, provider);
        var values = ToDoubleArray();
        var dims = Shape.ToArray();
        var strides = Shape.Strides();
        bool summarize = Size > PrintThreshold;
        int width = ShownIndices(dims, strides, summarize).Select(i => Fmt(values[i]).Length).DefaultIfEmpty(0).Max();
        var sb = new StringBuilder();
        Write(sb, values, dims, strides, 0, 0, summarize, width, 0, Fmt);
        return sb.ToString();
    }

    static IEnumerable<long> ShownIndices(int[] dims, long[] strides, bool summarize)
    {
        if (dims.Length == 0) { yield return 0; yield break; }
        var idx = new int[dims.Length];
        IEnumerable<long> Rec(int axis, long offset)
        {
            if (axis == dims.Length) { yield return offset; yield break; }
            foreach (var i in AxisItems(dims[axis], summarize))
                if (i >= 0)
                    foreach (var o in Rec(axis + 1, offset + i * strides[axis])) yield return o;
        }
        foreach (var o in Rec(0, 0)) yield return o;
    }

    // Indices shown along an axis; -1 marks the "..." gap.
    static IEnumerable<int> AxisItems(int n, bool summarize)
    {
        if (!summarize || n <= 2 * EdgeItems) { for (int i = 0; i < n; i++) yield return i; yield break; }
        for (int i = 0; i < EdgeItems; i++) yield return i;
        yield return -1;
        for (int i = n - EdgeItems; i < n; i++) yield return i;
    }

    static void Write(StringBuilder sb, double[] v, int[] dims, long[] strides, int axis, long offset,
        bool summarize, int width, int indent, Func<double, string> fmt)
    {
        if (axis == dims.Length) { sb.Append(fmt(v[offset]).PadLeft(width)); return; }
        sb.Append('[');
        bool first = true;
        bool last = axis == dims.Length - 1;
        foreach (var i in AxisItems(dims[axis], summarize))
        {
            if (!first)
            {
                sb.Append(',');
                if (last) sb.Append(' ');
                else sb.Append('\n', dims.Length - 1 - axis).Append(' ', indent + axis + 1);
            }
            first = false;
            if (i < 0) { sb.Append("..."); continue; }
            Write(sb, v, dims, strides, axis + 1, offset + i * strides[axis], summarize, width, indent, fmt);
        }
        sb.Append(']');
    }

    static string FormatElement(double v, DType dtype)
    {
        if (dtype == DType.Bool) return v != 0 ? "True" : "False";
        if (!dtype.IsFloat()) return ((long)v).ToString(CultureInfo.InvariantCulture);
        if (double.IsNaN(v)) return "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        string s = dtype == DType.Float64
            ? v.ToString("R", CultureInfo.InvariantCulture)
            : ((float)v).ToString("R", CultureInfo.InvariantCulture);
        if (!s.Contains('.') && !s.Contains('E')) s += ".";
        return s;
    }
}
