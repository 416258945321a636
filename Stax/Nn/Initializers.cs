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
    /// <summary>Geometric mean of both (JAX's "fan_geo_avg").</summary>
    FanGeoAvg,
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
    /// <c>jax.nn.initializers.truncated_normal</c>: a standard normal truncated to
    /// (<paramref name="lower"/>, <paramref name="upper"/>), times <paramref name="stddev"/>, so values
    /// lie in (lower·stddev, upper·stddev). As in JAX, <paramref name="stddev"/> is the standard
    /// deviation of the distribution <em>before</em> truncation: with the default bounds the result's
    /// standard deviation is 0.8796·stddev. (The variance-scaling initializers, e.g.
    /// <see cref="LecunNormal"/>, divide by that factor; this one does not, as JAX.)
    /// </summary>
    public static Initializer TruncatedNormal(double stddev = 1e-2, double lower = -2.0, double upper = 2.0)
        => (k, s, d) => Rng.TruncatedNormal(k, lower, upper, s, d) * stddev;

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
                // JAX's receptive field is size / in_size / out_size; when both axes are one
                // (Flax's embedding init, out_axis=0) that is the other dimensions over it.
                double receptive = 1;
                for (int i = 0; i < s.Rank; i++) if (i != ia && i != oa) receptive *= s[i];
                if (ia == oa) receptive /= s[ia];
                fanIn = s[ia] * receptive;
                fanOut = s[oa] * receptive;
            }
            double denominator = mode switch
            {
                FanMode.FanIn => fanIn,
                FanMode.FanOut => fanOut,
                FanMode.FanGeoAvg => Math.Pow(fanIn * fanOut, 0.5),
                _ => (fanIn + fanOut) / 2,
            };
            // As JAX: variance = array(scale / denominator, dtype), and the factors are computed
            // from it in the dtype (float32 square roots and quotients), not in float64.
            var variance = Tensor.Scalar(scale / (denominator == 0 ? 1 : denominator), d);   // an empty shape has no fan
            return distribution switch
            {
                // stddev of a standard normal truncated to (-2, 2)
                Distribution.TruncatedNormal => Rng.TruncatedNormal(k, -2.0, 2.0, s, d) * Lax.Div(Lax.Sqrt(variance), Tensor.Scalar(0.87962566103423978, d)),
                Distribution.Normal => Rng.Normal(k, s, d) * Lax.Sqrt(variance),
                _ => Rng.Uniform(k, s, d, -1, 1) * Lax.Sqrt(Lax.Mul(Tensor.Scalar(3, d), variance)),
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

    /// <summary>
    /// Orthogonal (jax.nn.initializers.orthogonal): the parameter, viewed as a matrix of
    /// (product of the other dimensions) rows by <c>shape[columnAxis]</c> columns, has orthonormal
    /// columns (or rows, when there are fewer rows than columns), times <paramref name="scale"/>.
    /// As JAX: a normal matrix of shape (rows, cols) (transposed when rows &lt; cols) is factored
    /// Q·R with R's diagonal made positive, Q is transposed back when needed, reshaped to the
    /// other dimensions + (cols,) and the last axis moved to <paramref name="columnAxis"/>.
    /// <para>The QR is composed from tensor primitives (Gram-Schmidt, each column orthogonalised
    /// twice against the previous ones, over a static number of columns), so it runs under
    /// Jit, Vmap (ensembles: vmapping over keys) and staging. Gram-Schmidt's R has a positive
    /// diagonal by construction, which is exactly JAX's sign correction by diag(R).</para>
    /// </summary>
    /// <param name="scale">Multiplier of the orthogonal matrix.</param>
    /// <param name="columnAxis">The axis holding the columns (default the last).</param>
    public static Initializer Orthogonal(double scale = 1.0, int columnAxis = -1) => (k, s, d) =>
    {
        if (s.Rank < 2)
            throw new ArgumentException($"Orthogonal: needs a shape with at least two dimensions, got {s}");
        if (!d.IsFloat())
            throw new ArgumentException($"Orthogonal: needs a floating-point dtype, got {d.Name()}");
        int ca = s.Axis(columnAxis, "Orthogonal column_axis");
        int cols = s[ca];
        long rowsL = 1;
        for (int i = 0; i < s.Rank; i++) if (i != ca) rowsL *= s[i];
        if (rowsL > int.MaxValue) throw new ArgumentException($"Orthogonal: shape {s} has too many rows");
        int rows = (int)rowsL;
        bool wide = rows < cols;
        int m = wide ? cols : rows, n = wide ? rows : cols;      // factor an m x n matrix, m >= n
        // Work in at least float32 (half precision loses orthogonality).
        var work = d is DType.Float16 or DType.BFloat16 ? DType.Float32 : d;
        var a = Rng.Normal(k, new Shape(m, n), d);
        if (work != d) a = Lax.ConvertElementType(a, work);
        var qt = GramSchmidtRows(Np.Transpose(a), n, m, work);   // (n, m): rows are Q's columns
        // Q is (m, n) = qt^T; JAX transposes Q back when rows < cols, giving qt itself.
        var q = wide ? qt : Np.Transpose(qt);                      // (rows, cols)
        var others = Enumerable.Range(0, s.Rank).Where(i => i != ca).Select(i => s[i]).ToList();
        others.Add(cols);
        var r = Np.Reshape(q, others.ToArray());
        r = Np.MoveAxis(r, -1, ca);
        r = r * Tensor.Scalar(scale, work);
        return r.DType == d ? r : Lax.ConvertElementType(r, d);
    };

    // Orthonormalises the n rows of at (n, m), m >= n, in order: block classical Gram-Schmidt with
    // a second pass ("twice is enough"). Each block of rows is projected off the rows already done
    // (two matrix products), then orthonormalised row by row inside the block, where an (b, m)
    // accumulator whose later rows are still zero makes each projection two matrix-vector products.
    // Blocks keep the per-row work on small arrays; the result is the same Q as plain Gram-Schmidt.
    const int GramSchmidtBlock = 16;

    static Tensor GramSchmidtRows(Tensor at, int n, int m, DType dtype)
    {
        if (n == 0 || m == 0) return Tensor.Zeros(new Shape(n, m), dtype);
        Tensor? done = null;                                                  // (k, m), orthonormal rows
        for (int start = 0; start < n; start += GramSchmidtBlock)
        {
            int b = Math.Min(GramSchmidtBlock, n - start);
            var block = at.Slice(0, start, start + b);                       // (b, m)
            if (done is not null)
                for (int pass = 0; pass < 2; pass++)
                    block = block - Np.Matmul(Np.Matmul(block, Np.Transpose(done)), done);
            var local = Tensor.Zeros(new Shape(b, m), dtype);
            for (int j = 0; j < b; j++)
            {
                var v = block[j];                                             // (m,)
                for (int pass = 0; pass < 2 && j > 0; pass++)
                    v = v - Np.Matmul(Np.Matmul(local, v), local);
                v = v * Lax.Rsqrt(Np.Sum(v * v));
                var e = Tensor.FromArray(Enumerable.Range(0, b).Select(i => i == j ? 1.0 : 0.0).ToArray(), b);
                if (dtype != DType.Float64) e = Lax.ConvertElementType(e, dtype);
                local = local + Np.Outer(e, v);
            }
            done = done is null ? local : Np.Concatenate(new[] { done, local }, 0);
        }
        return done!;
    }
}
