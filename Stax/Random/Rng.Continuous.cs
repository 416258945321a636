namespace Stax;

public static partial class Rng
{
    static Tensor Const(Tensor like, double v) => Lax.BroadcastInDim(Tensor.Scalar(v, like.DType), like.Shape);

    static double Epsilon(DType dtype) => dtype switch
    {
        DType.Float32 => Math.Pow(2, -23),
        DType.Float64 => Math.Pow(2, -52),
        DType.Float16 => Math.Pow(2, -10),
        _ => Math.Pow(2, -7),
    };

    /// <summary>
    /// Standard exponential samples (jax.random.exponential): <c>-log1p(-u)</c> with u uniform in [0, 1).
    /// </summary>
    public static Tensor Exponential(Key key, Shape shape = default, DType dtype = DType.Float32)
    {
        const string op = "Rng.Exponential";
        RequireFloat(op, dtype);
        var u = UniformCore(op, key, shape, dtype, Scalar(0, dtype), Scalar(1, dtype));
        return Lax.Neg(Lax.Log1p(Lax.Neg(u)));
    }

    /// <summary>
    /// Standard Laplace samples (jax.random.laplace): u uniform in [-1 + epsneg, 1), then
    /// <c>sign(u) * log1p(-|u|)</c>.
    /// </summary>
    public static Tensor Laplace(Key key, Shape shape = default, DType dtype = DType.Float32)
    {
        const string op = "Rng.Laplace";
        RequireFloat(op, dtype);
        // -1 + epsneg is nextafter(-1, 0).
        var u = UniformCore(op, key, shape, dtype, Scalar(NextAfterMinusOne(dtype), dtype), Scalar(1, dtype));
        return Lax.Mul(Lax.Sign(u), Lax.Log1p(Lax.Neg(Lax.Abs(u))));
    }

    /// <summary>
    /// Standard logistic samples (jax.random.logistic): x uniform in [tiny, 1), then
    /// <c>log(x) - log1p(-x)</c>.
    /// </summary>
    public static Tensor Logistic(Key key, Shape shape = default, DType dtype = DType.Float32)
    {
        const string op = "Rng.Logistic";
        RequireFloat(op, dtype);
        var x = UniformCore(op, key, shape, dtype, Scalar(Tiny(dtype), dtype), Scalar(1, dtype));
        return Lax.Sub(Lax.Log(x), Lax.Log1p(Lax.Neg(x)));
    }

    /// <summary>
    /// Pareto samples with shape parameter <paramref name="b"/> (jax.random.pareto):
    /// <c>exp(exponential(key) / b)</c>. b broadcasts to <paramref name="shape"/> (default: b's shape).
    /// </summary>
    public static Tensor Pareto(Key key, Tensor b, Shape? shape = null, DType dtype = DType.Float32)
    {
        const string op = "Rng.Pareto";
        RequireFloat(op, dtype);
        var s = shape ?? b.Shape;
        var bb = BroadcastBound(op, "b", b, s, dtype);
        return Lax.Exp(Lax.Div(Exponential(key, s, dtype), bb));
    }

    /// <summary>
    /// Weibull samples (jax.random.weibull_min): <c>(-log1p(-u)) ** (1 / concentration) * scale</c>,
    /// u uniform in [0, 1). 1/concentration is computed in float64 and rounded to the dtype, as
    /// Python does for JAX's float arguments.
    /// </summary>
    public static Tensor WeibullMin(Key key, double scale, double concentration, Shape shape = default, DType dtype = DType.Float32)
    {
        const string op = "Rng.WeibullMin";
        RequireFloat(op, dtype);
        var u = UniformCore(op, key, shape, dtype, Scalar(0, dtype), Scalar(1, dtype));
        var e = Lax.Neg(Lax.Log1p(Lax.Neg(u)));
        return Lax.Mul(Lax.Pow(e, Full(shape, 1.0 / concentration, dtype)), Full(shape, scale, dtype));
    }

    /// <summary>
    /// Random signs, -1 or +1 with equal probability, in <paramref name="dtype"/> (jax.random.rademacher):
    /// <c>2 * bernoulli(key, 0.5, shape) - 1</c>. Integer dtypes are allowed.
    /// </summary>
    public static Tensor Rademacher(Key key, Shape shape = default, DType dtype = DType.Int32)
    {
        var b = Lax.ConvertElementType(Bernoulli(key, Tensor.Scalar(0.5, DType.Float32), shape), dtype);
        return Lax.Sub(Lax.Mul(Full(shape, 2, dtype), b), Full(shape, 1, dtype));
    }

    /// <summary>
    /// One-sided Maxwell samples (jax.random.maxwell): the Euclidean norm of three standard normals
    /// drawn as <c>normal(key, shape + (3,))</c>.
    /// </summary>
    public static Tensor Maxwell(Key key, Shape shape = default, DType dtype = DType.Float32)
    {
        const string op = "Rng.Maxwell";
        RequireFloat(op, dtype);
        var n = Normal(key, new Shape(shape.ToArray().Append(3).ToArray()), dtype);
        return Lax.Sqrt(Np.Sum(Lax.Mul(n, n), axis: -1));
    }

    /// <summary>
    /// Double-sided Maxwell samples (jax.random.double_sided_maxwell): keys split in two, a Maxwell
    /// sample from the first and a Rademacher sign from the second, <c>sign * maxwell * scale + loc</c>
    /// (the final multiply-add fused, as XLA:CPU computes it). The result shape is
    /// <paramref name="shape"/> followed by the broadcast shape of loc and scale, as in JAX.
    /// </summary>
    public static Tensor DoubleSidedMaxwell(Key key, Tensor loc, Tensor scale, Shape shape = default, DType dtype = DType.Float32)
    {
        const string op = "Rng.DoubleSidedMaxwell";
        RequireFloat(op, dtype);
        var ps = Np.BroadcastShapes(op, loc.Shape, scale.Shape);
        var s = new Shape((shape.Rank == 0 ? ps : shape).ToArray().Concat(ps.ToArray()).ToArray());
        var ks = Split(key, 2);
        var m = Maxwell(ks[0], s, dtype);
        var sign = Rademacher(ks[1], s, dtype);
        var l = Np.BroadcastTo(Lax.ConvertElementType(loc, dtype), s);
        var sc = Np.BroadcastTo(Lax.ConvertElementType(scale, dtype), s);
        return MulAdd(Lax.Mul(sign, m), sc, l, plainIsExact: false);
    }

    /// <summary>
    /// Multivariate normal samples (jax.random.multivariate_normal, method "cholesky"):
    /// <c>mean + einsum('...ij,...j->...i', cholesky(cov), normal(key, shape + (n,)))</c>. mean has
    /// shape (..., n) and cov (..., n, n); the result has <paramref name="shape"/> (default: the
    /// broadcast of their batch shapes) + (n,). The factorization is composed from tensor
    /// operations (n static steps), so it traces under Jit and Vmap; cov must be symmetric
    /// positive definite (otherwise the result holds NaNs, as JAX's).
    /// </summary>
    public static Tensor MultivariateNormal(Key key, Tensor mean, Tensor cov, Shape? shape = null, DType dtype = DType.Float32)
    {
        const string op = "Rng.MultivariateNormal";
        RequireFloat(op, dtype);
        if (mean.Rank < 1)
            throw new ArgumentException($"{op}: mean must have at least one dimension, got shape {mean.Shape}");
        if (cov.Rank < 2)
            throw new ArgumentException($"{op}: cov must have at least two dimensions, got shape {cov.Shape}");
        int n = mean.Shape[^1];
        if (cov.Shape[^1] != n || cov.Shape[^2] != n)
            throw new ArgumentException($"{op}: cov must have shape (..., {n}, {n}) for mean of shape {mean.Shape}, got {cov.Shape}");
        var meanBatch = new Shape(mean.Shape.ToArray()[..^1]);
        var covBatch = new Shape(cov.Shape.ToArray()[..^2]);
        var s = shape ?? Np.BroadcastShapes(op, meanBatch, covBatch);
        RequireBroadcastsTo(op, "mean's batch shape", meanBatch, s);
        RequireBroadcastsTo(op, "cov's batch shape", covBatch, s);
        var factor = Cholesky(Lax.ConvertElementType(cov, dtype));
        var z = Normal(key, new Shape(s.ToArray().Append(n).ToArray()), dtype);
        var y = Np.Einsum("...ij,...j->...i", factor, z);
        return Np.Add(Lax.ConvertElementType(mean, dtype), y);
    }

    /// <summary>
    /// Lower Cholesky factor of a batch of symmetric positive definite matrices (..., n, n), column
    /// by column (Cholesky–Banachiewicz on whole columns) with tensor operations.
    /// </summary>
    static Tensor Cholesky(Tensor a)
    {
        int n = a.Shape[^1];
        int r = a.Rank;
        var l = Np.ZerosLike(a);
        var rowIdx = Lax.BroadcastInDim(Lax.Iota(DType.Int32, new Shape(n)), new Shape(n, 1), new[] { 0 });
        for (int j = 0; j < n; j++)
        {
            // column j of A minus L[:, :j] · L[j, :j]
            var colA = Lax.SliceInDim(a, j, j + 1, 1, r - 1);                       // (..., n, 1)
            var lRowJ = Lax.SliceInDim(l, j, j + 1, 1, r - 2);                      // (..., 1, n)
            var v = Np.Subtract(colA, Np.Matmul(l, Np.SwapAxes(lRowJ, -1, -2)));   // (..., n, 1)
            var d = Lax.Sqrt(Lax.SliceInDim(v, j, j + 1, 1, r - 2));                // (..., 1, 1)
            var col = Np.Divide(v, d);
            var mask = Np.Greater(rowIdx, Tensor.Scalar(j - 1, DType.Int32));        // rows >= j
            col = Np.Where(mask, col, Np.ZerosLike(col));
            var e = Np.Equal(Lax.BroadcastInDim(Lax.Iota(DType.Int32, new Shape(n)), new Shape(1, n), new[] { 1 }), Tensor.Scalar(j, DType.Int32));
            l = Np.Where(e, Np.BroadcastTo(col, l.Shape), l);
        }
        return l;
    }
}
