namespace Stax;

/// <summary>Element types of tensors. <see cref="Float32"/> is the default.</summary>
public enum DType : byte
{
    /// <summary>32-bit IEEE float (the default).</summary>
    Float32,
    /// <summary>64-bit IEEE float (CPU only).</summary>
    Float64,
    /// <summary>16-bit IEEE half float (storage and conversion).</summary>
    Float16,
    /// <summary>bfloat16 (storage and conversion).</summary>
    BFloat16,
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>32-bit unsigned integer.</summary>
    UInt32,
    /// <summary>8-bit unsigned integer.</summary>
    UInt8,
    /// <summary>Boolean, stored as one byte (0 or 1).</summary>
    Bool,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypes
{
    /// <summary>Size of one element in bytes.</summary>
    public static int SizeOf(this DType t) => t switch
    {
        DType.Float64 => 8,
        DType.Float32 or DType.Int32 or DType.UInt32 => 4,
        DType.Float16 or DType.BFloat16 => 2,
        _ => 1,
    };

    /// <summary>
    /// Returns <paramref name="t"/>, or throws naming <paramref name="op"/> when it is not one of the
    /// defined dtypes (a cast such as <c>(DType)99</c> would otherwise fail much later).
    /// </summary>
    public static DType Checked(this DType t, string op)
        => Enum.IsDefined(t) ? t : throw new ArgumentException($"{op}: {(int)t} is not a dtype (expected one of {string.Join(", ", Enum.GetValues<DType>().Select(Name))})");

    /// <summary>True for the floating-point types.</summary>
    public static bool IsFloat(this DType t) => t is DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16;

    /// <summary>True for the integer types (not bool).</summary>
    public static bool IsInteger(this DType t) => t is DType.Int32 or DType.UInt32 or DType.UInt8;

    /// <summary>True for the unsigned integer types.</summary>
    public static bool IsUnsigned(this DType t) => t is DType.UInt32 or DType.UInt8;

    /// <summary>The NumPy/JAX name of the type (float32, int32, bool, ...).</summary>
    public static string Name(this DType t) => t switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Float16 => "float16",
        DType.BFloat16 => "bfloat16",
        DType.Int32 => "int32",
        DType.UInt32 => "uint32",
        DType.UInt8 => "uint8",
        DType.Bool => "bool",
        _ => t.ToString(),
    };

    /// <summary>The short name used when printing programs (f32, i32, bool, ...).</summary>
    public static string ShortName(this DType t) => t switch
    {
        DType.Float32 => "f32",
        DType.Float64 => "f64",
        DType.Float16 => "f16",
        DType.BFloat16 => "bf16",
        DType.Int32 => "i32",
        DType.UInt32 => "u32",
        DType.UInt8 => "u8",
        DType.Bool => "bool",
        _ => t.ToString(),
    };
}
