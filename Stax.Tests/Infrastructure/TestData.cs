namespace Stax.Tests.Infrastructure;

/// <summary>Deterministic test inputs, including the awkward values (NaN, ±Inf, -0, extremes).</summary>
public static class TestData
{
    /// <summary>Shapes covering empty, scalar, size-1, odd sizes and a vector tail.</summary>
    public static readonly int[][] Shapes =
    {
        new int[0], new[] { 0 }, new[] { 1 }, new[] { 7 }, new[] { 3, 5 }, new[] { 2, 0, 3 }, new[] { 67 }, new[] { 4, 33 },
    };

    /// <summary>A large shape (> 64K elements, odd) for the sweeps, so threading and tails run.</summary>
    public static readonly int[] Large = { 65537 + 130 };

    /// <summary>Uniform values in [lo, hi) for floats; integers in a dtype-appropriate range.</summary>
    public static double[] Values(int seed, long n, DType dtype, double lo = -3, double hi = 3, bool specials = false)
    {
        var rng = new Random(seed);
        var v = new double[n];
        for (long i = 0; i < n; i++)
        {
            v[i] = dtype switch
            {
                DType.Bool => rng.Next(2),
                DType.UInt8 => rng.Next(256),
                DType.UInt32 => (uint)rng.NextInt64(0, 1L << 32),
                DType.Int32 => rng.Next(-1000, 1000),
                _ => lo + (hi - lo) * rng.NextDouble(),
            };
        }
        if (specials && dtype.IsFloat() && n >= 6)
        {
            v[0] = double.NaN; v[1] = double.PositiveInfinity; v[2] = double.NegativeInfinity; v[3] = -0.0; v[4] = 0.0;
            v[5] = dtype == DType.Float64 ? 1e300 : 3e38;
        }
        if (specials && dtype == DType.Int32 && n >= 3) { v[0] = int.MinValue; v[1] = int.MaxValue; v[2] = 0; }
        if (specials && dtype == DType.UInt32 && n >= 2) { v[0] = uint.MaxValue; v[1] = 0; }
        return v;
    }

    /// <summary>A tensor with values from <see cref="Values"/> (rounded to the dtype).</summary>
    public static Tensor Tensor(int seed, int[] shape, DType dtype = DType.Float32, double lo = -3, double hi = 3, bool specials = false)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        var v = Values(seed, n, dtype, lo, hi, specials);
        return new Reference.RefArray(shape, dtype, v.Select(x => Reference.RefArray.Fit(x, dtype)).ToArray()).ToTensor();
    }
}
