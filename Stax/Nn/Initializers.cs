namespace Stax.Nn;

/// <summary>Creates a parameter of <paramref name="shape"/> from a key (jax.nn.initializers).</summary>
public delegate Tensor Initializer(Key key, Shape shape, DType dtype);

/// <summary>How variance scaling counts fans.</summary>
public enum FanMode
{
    /// <summary>Input fan (in-axis size times the receptive field).</summary>
    FanIn,
    /// <summary>Output fan.</summary>
    FanOut,
    /// <summary>Average of both.</summary>
    FanAvg,
}

/// <summary>Distribution used by variance scaling.</summary>
public enum Distribution
{
    /// <summary>Normal truncated to ±2 standard deviations (rescaled to keep the variance).</summary>
    TruncatedNormal,
    /// <summary>Normal.</summary>
    Normal,
    /// <summary>Uniform on a symmetric interval.</summary>
    Uniform,
}

/// <summary>The initializers of jax.nn.initializers, with the same definitions and defaults.</summary>
public static class Initializers
{
    /// <summary>Zeros.</summary>
    public static Initializer Zeros() => (k, s, d) => Tensor.Zeros(s, d);
    /// <summary>Ones.</summary>
    public static Initializer Ones() => (k, s, d) => Tensor.Ones(s, d);
    /// <summary>A constant.</summary>
    public static Initializer Constant(double value) => (k, s, d) => Tensor.Full(s, value, d);
    /// <summary>Normal with standard deviation <paramref name="stddev"/> (default 1e-2).</summary>
    public static Initializer Normal(double stddev = 1e-2) => (k, s, d) => Rng.Normal(k, s, d) * stddev;
    /// <summary>Uniform on [0, <paramref name="scale"/>) (default 1e-2).</summary>
    public static Initializer Uniform(double scale = 1e-2) => (k, s, d) => Rng.Uniform(k, s, d, 0, scale);

    /// <summary>
    /// Variance scaling: variance = scale / fan, with fans from <paramref name="inAxis"/>,
    /// <paramref name="outAxis"/> and the product of the other dimensions (the receptive field).
    /// </summary>
    public static Initializer VarianceScaling(double scale, FanMode mode, Distribution distribution, int inAxis = -2, int outAxis = -1)
        => (k, s, d) =>
        {
            if (s.Rank < 1)
                throw new ArgumentException($"VarianceScaling: needs a shape with at least one dimension, got {s}");
            double fanIn, fanOut;
            if (s.Rank == 1) { fanIn = fanOut = s[0]; }
            else
            {
                int ia = s.Axis(inAxis, "VarianceScaling in_axis"), oa = s.Axis(outAxis, "VarianceScaling out_axis");
                double receptive = 1;
                for (int i = 0; i < s.Rank; i++) if (i != ia && i != oa) receptive *= s[i];
                fanIn = s[ia] * receptive;
                fanOut = s[oa] * receptive;
            }
            double denominator = mode switch { FanMode.FanIn => fanIn, FanMode.FanOut => fanOut, _ => (fanIn + fanOut) / 2 };
            double variance = scale / Math.Max(1.0, denominator);
            return distribution switch
            {
                // stddev of a standard normal truncated to (-2, 2)
                Distribution.TruncatedNormal => Rng.TruncatedNormal(k, -2.0, 2.0, s, d) * (Math.Sqrt(variance) / 0.87962566103423978),
                Distribution.Normal => Rng.Normal(k, s, d) * Math.Sqrt(variance),
                _ => Rng.Uniform(k, s, d, -1, 1) * Math.Sqrt(3 * variance),
            };
        };

    /// <summary>Glorot/Xavier uniform.</summary>
    public static Initializer GlorotUniform(int inAxis = -2, int outAxis = -1) => VarianceScaling(1, FanMode.FanAvg, Distribution.Uniform, inAxis, outAxis);
    /// <summary>Glorot/Xavier normal (truncated).</summary>
    public static Initializer GlorotNormal(int inAxis = -2, int outAxis = -1) => VarianceScaling(1, FanMode.FanAvg, Distribution.TruncatedNormal, inAxis, outAxis);
    /// <summary>Same as <see cref="GlorotUniform"/>.</summary>
    public static Initializer XavierUniform(int inAxis = -2, int outAxis = -1) => GlorotUniform(inAxis, outAxis);
    /// <summary>Same as <see cref="GlorotNormal"/>.</summary>
    public static Initializer XavierNormal(int inAxis = -2, int outAxis = -1) => GlorotNormal(inAxis, outAxis);
    /// <summary>LeCun uniform.</summary>
    public static Initializer LecunUniform(int inAxis = -2, int outAxis = -1) => VarianceScaling(1, FanMode.FanIn, Distribution.Uniform, inAxis, outAxis);
    /// <summary>LeCun normal (truncated).</summary>
    public static Initializer LecunNormal(int inAxis = -2, int outAxis = -1) => VarianceScaling(1, FanMode.FanIn, Distribution.TruncatedNormal, inAxis, outAxis);
    /// <summary>He/Kaiming uniform.</summary>
    public static Initializer HeUniform(int inAxis = -2, int outAxis = -1) => VarianceScaling(2, FanMode.FanIn, Distribution.Uniform, inAxis, outAxis);
    /// <summary>He/Kaiming normal (truncated).</summary>
    public static Initializer HeNormal(int inAxis = -2, int outAxis = -1) => VarianceScaling(2, FanMode.FanIn, Distribution.TruncatedNormal, inAxis, outAxis);
    /// <summary>Same as <see cref="HeUniform"/>.</summary>
    public static Initializer KaimingUniform(int inAxis = -2, int outAxis = -1) => HeUniform(inAxis, outAxis);
    /// <summary>Same as <see cref="HeNormal"/>.</summary>
    public static Initializer KaimingNormal(int inAxis = -2, int outAxis = -1) => HeNormal(inAxis, outAxis);
}
