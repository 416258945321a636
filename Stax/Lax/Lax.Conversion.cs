namespace Stax;

public static partial class Lax
{
    /// <summary>
    /// Converts to <paramref name="dtype"/> (a no-op when already that type and weak flag). Float to
    /// integer truncates, and values the integer type cannot hold follow XLA's CPU backend (see
    /// <see cref="Prims.ConvertElementType"/>: int32 gets int.MinValue for NaN, +-Inf and out-of-range
    /// values; unsigned types wrap).
    /// </summary>
    public static Tensor ConvertElementType(Tensor x, DType dtype, bool weak = false)
        => x.DType == dtype && x.IsWeak == weak ? x : Prims.ConvertElementType.Bind1(new ConvertParams(dtype, weak), x);

    /// <summary>Reinterprets element bits as <paramref name="dtype"/> (same width).</summary>
    public static Tensor BitcastConvertType(Tensor x, DType dtype) => Prims.BitcastConvertType.Bind1(new BitcastParams(dtype), x);

    /// <summary>0, 1, 2, ... along <paramref name="dimension"/> of <paramref name="shape"/>.</summary>
    public static Tensor Iota(DType dtype, Shape shape, int dimension = 0) => Prims.Iota.Bind1(new IotaParams(dtype, shape, dimension));
}
