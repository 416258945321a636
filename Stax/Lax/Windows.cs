namespace Stax;

/// <summary>Shape arithmetic of windowed operations.</summary>
public static class Windows
{
    internal static string FormatPadding(IntTuple lo, IntTuple hi)
    {
        var parts = new List<string>();
        for (int i = 0; i < Math.Min(lo.Length, hi.Length); i++) parts.Add($"({lo[i]}, {hi[i]})");
        return parts.Count == 1 ? $"({parts[0]},)" : "(" + string.Join(", ", parts) + ")";
    }

    /// <summary>
    /// Validates a window against an operand shape and returns the output shape: per dimension,
    /// the dilated padded size <c>(n - 1) * base_dilation + 1 + lo + hi</c> (0 + lo + hi when n is 0)
    /// minus the dilated window <c>(w - 1) * window_dilation + 1</c>, divided by the stride, plus one
    /// (0 when the window does not fit).
    /// </summary>
    public static Shape OutputShape(string op, Shape operand, IntTuple windowDimensions, IntTuple windowStrides,
        IntTuple paddingLow, IntTuple paddingHigh, IntTuple baseDilation, IntTuple windowDilation)
    {
        int r = operand.Rank;
        void Len(IntTuple t, string what)
        {
            if (t.Length != r)
                throw new ArgumentException($"{op}: {what} {t} must have one entry per operand dimension (operand shape {operand}, rank {r}), got {t.Length}");
        }
        Len(windowDimensions, "window_dimensions");
        Len(windowStrides, "window_strides");
        Len(paddingLow, "padding (low)");
        Len(paddingHigh, "padding (high)");
        Len(baseDilation, "base_dilation");
        Len(windowDilation, "window_dilation");
        var dims = new int[r];
        for (int i = 0; i < r; i++)
        {
            if (windowDimensions[i] < 1)
                throw new ArgumentException($"{op}: window_dimensions {windowDimensions} must be positive (dimension {i} is {windowDimensions[i]})");
            if (windowStrides[i] < 1)
                throw new ArgumentException($"{op}: window_strides {windowStrides} must be positive (dimension {i} is {windowStrides[i]})");
            if (baseDilation[i] < 1 || windowDilation[i] < 1)
                throw new ArgumentException($"{op}: base_dilation {baseDilation} and window_dilation {windowDilation} must be positive (dimension {i})");
            if (paddingLow[i] < 0 || paddingHigh[i] < 0)
                throw new ArgumentException($"{op}: padding {FormatPadding(paddingLow, paddingHigh)} must be non-negative (dimension {i})");
            long n = operand[i];
            long padded = (n == 0 ? 0 : (n - 1) * baseDilation[i] + 1) + paddingLow[i] + paddingHigh[i];
            long win = (long)(windowDimensions[i] - 1) * windowDilation[i] + 1;
            long o = padded < win ? 0 : (padded - win) / windowStrides[i] + 1;
            if (o > int.MaxValue) throw new ArgumentException($"{op}: output dimension {i} is too large ({o})");
            dims[i] = (int)o;
        }
        return new Shape(dims);
    }

    internal static IntTuple Ones(int rank) => Enumerable.Repeat(1, rank).ToArray();
}
