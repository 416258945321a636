namespace Stax;

public static partial class Np
{
    /// <summary>jax.numpy.linalg functions that need no factorization.</summary>
    public static class Linalg
    {
        /// <summary>
        /// Vector or matrix norm (jnp.linalg.norm) with JAX's formulas, so its gradient conventions too
        /// (the 2-norm is sqrt(sum x²), whose gradient at 0 is NaN as in JAX). With no
        /// <paramref name="axis"/> a 1-D or 2-D array gives its vector or matrix norm (and any other
        /// rank the 2-norm of all elements, only with <paramref name="ord"/> null). Vector orders: null
        /// or 2, ±inf, 0 (count of nonzeros), 1, any p (sum |x|^p)^(1/p). Matrix orders over two axes:
        /// null (Frobenius), ±1, ±inf; "fro" via <see cref="Norm(Tensor, string, int[], bool)"/>.
        /// The spectral and nuclear norms (2, -2, "nuc") need an SVD and are not supported.
        /// </summary>
        public static Tensor Norm(Tensor x, double? ord = null, int[]? axis = null, bool keepdims = false)
        {
            x = ToFloat(x);
            if (axis == null)
            {
                if (ord == null)
                {
                    var all = Enumerable.Range(0, x.Rank).ToArray();
                    return Lax.Sqrt(Sum(Lax.Mul(x, x), all, keepdims));
                }
                if (x.Rank != 1 && x.Rank != 2)
                    throw new ArgumentException($"linalg.norm: an order ({ord}) needs a 1-D or 2-D array or an axis, got shape {x.Shape}");
                axis = Enumerable.Range(0, x.Rank).ToArray();
            }
            axis = axis.Select(a => a < 0 ? a + x.Rank : a).ToArray();
            if (axis.Any(a => a < 0 || a >= x.Rank) || axis.Distinct().Count() != axis.Length)
                throw new ArgumentException($"linalg.norm: invalid axis [{string.Join(", ", axis)}] for shape {x.Shape}");
            if (axis.Length == 1) return VectorNorm(x, ord, axis, keepdims);
            if (axis.Length == 2) return MatrixNorm(x, ord, axis, keepdims);
            throw new ArgumentException($"linalg.norm: axis must name 1 or 2 axes, got [{string.Join(", ", axis)}]");
        }

        /// <summary>Matrix norm by name: "fro" (Frobenius); "nuc" needs an SVD and is not supported.</summary>
        public static Tensor Norm(Tensor x, string ord, int[]? axis = null, bool keepdims = false)
        {
            if (ord == "fro")
            {
                x = ToFloat(x);
                axis ??= x.Rank == 2 ? new[] { 0, 1 } : throw new ArgumentException($"linalg.norm: ord 'fro' needs a 2-D array or two axes, got shape {x.Shape}");
                if (axis.Length != 2) throw new ArgumentException($"linalg.norm: ord 'fro' needs two axes, got [{string.Join(", ", axis)}]");
                return Lax.Sqrt(Sum(Lax.Mul(x, x), axis, keepdims));
            }
            throw new NotSupportedException($"linalg.norm: ord '{ord}' is not supported (only 'fro'; 'nuc' needs an SVD)");
        }

        static Tensor VectorNorm(Tensor x, double? ord, int[] axis, bool keepdims)
        {
            switch (ord)
            {
                case null or 2: return Lax.Sqrt(Sum(Lax.Mul(x, x), axis, keepdims));
                case double.PositiveInfinity: return Max(Lax.Abs(x), axis, keepdims);
                case double.NegativeInfinity: return Min(Lax.Abs(x), axis, keepdims);
                case 0: return Sum(Lax.ConvertElementType(Lax.Ne(x, Like(x, 0)), x.DType), axis, keepdims);
                case 1: return Sum(Lax.Abs(x), axis, keepdims);
                default:
                    double p = ord.Value;
                    var s = Sum(Power(Lax.Abs(x), Tensor.WeakScalar(p)), axis, keepdims);
                    return Power(s, Tensor.WeakScalar(1 / p));
            }
        }

        static Tensor MatrixNorm(Tensor x, double? ord, int[] axis, bool keepdims)
        {
            int row = axis[0], col = axis[1];
            Tensor r;
            switch (ord)
            {
                case null: return Lax.Sqrt(Sum(Lax.Mul(x, x), axis, keepdims));
                case 1 or -1:
                {
                    // max/min over columns of the column sums (sum over the row axis).
                    var sums = Sum(Lax.Abs(x), new[] { row }, keepdims: true);
                    r = ord == 1 ? Max(sums, new[] { col }, keepdims: true) : Min(sums, new[] { col }, keepdims: true);
                    break;
                }
                case double.PositiveInfinity or double.NegativeInfinity:
                {
                    var sums = Sum(Lax.Abs(x), new[] { col }, keepdims: true);
                    r = ord > 0 ? Max(sums, new[] { row }, keepdims: true) : Min(sums, new[] { row }, keepdims: true);
                    break;
                }
                default:
                    throw new NotSupportedException($"linalg.norm: matrix ord {ord} is not supported (2 and -2 need an SVD); use null, 1, -1, inf, -inf or 'fro'");
            }
            return keepdims ? r : Squeeze(r, axis);
        }
    }
}
