namespace Stax;

/// <summary>Maps C# element types to <see cref="DType"/>s.</summary>
public static class HostType
{
    /// <summary>The dtype stored for C# type <typeparamref name="T"/>, or throws.</summary>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(int)) return DType.Int32;
        if (typeof(T) == typeof(uint)) return DType.UInt32;
        if (typeof(T) == typeof(byte)) return DType.UInt8;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        if (typeof(T) == typeof(Half)) return DType.Float16;
        if (typeof(T) == typeof(BFloat16)) return DType.BFloat16;
        throw new NotSupportedException($"Element type {typeof(T).Name} has no Stax dtype (use float, double, int, uint, byte, bool, Half or BFloat16)");
    }

    /// <summary>The dtype stored for a runtime element type, or throws.</summary>
    public static DType Of(Type t)
    {
        if (t == typeof(float)) return DType.Float32;
        if (t == typeof(double)) return DType.Float64;
        if (t == typeof(int)) return DType.Int32;
        if (t == typeof(uint)) return DType.UInt32;
        if (t == typeof(byte)) return DType.UInt8;
        if (t == typeof(bool)) return DType.Bool;
        if (t == typeof(Half)) return DType.Float16;
        if (t == typeof(BFloat16)) return DType.BFloat16;
        throw new NotSupportedException($"Element type {t.Name} has no Stax dtype (use float, double, int, uint, byte, bool, Half or BFloat16)");
    }
}
