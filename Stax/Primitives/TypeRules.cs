namespace Stax.Extend;

/// <summary>Shared pieces of shape/dtype rules and their error messages.</summary>
public static class TypeRules
{
    /// <summary>Kinds of dtypes a primitive accepts.</summary>
    [Flags]
    public enum Kinds
    {
        /// <summary>Floating-point types.</summary>
        Float = 1,
        /// <summary>Signed integers.</summary>
        SignedInt = 2,
        /// <summary>Unsigned integers.</summary>
        UnsignedInt = 4,
        /// <summary>Bool.</summary>
        Bool = 8,
        /// <summary>All integers.</summary>
        Int = SignedInt | UnsignedInt,
        /// <summary>Numbers (no bool).</summary>
        Numeric = Float | Int,
        /// <summary>Anything.</summary>
        Any = Numeric | Bool,
        /// <summary>Integers and bool (bitwise operations).</summary>
        IntOrBool = Int | Bool,
    }

    /// <summary>True when <paramref name="t"/> belongs to <paramref name="k"/>.</summary>
    public static bool Accepts(Kinds k, DType t) => t switch
    {
        DType.Bool => k.HasFlag(Kinds.Bool),
        DType.Int32 => k.HasFlag(Kinds.SignedInt),
        DType.UInt32 or DType.UInt8 => k.HasFlag(Kinds.UnsignedInt),
        _ => k.HasFlag(Kinds.Float),
    };

    /// <summary>Throws unless <paramref name="t"/> belongs to <paramref name="k"/>.</summary>
    public static void RequireKind(string op, Kinds k, AbstractValue t, string what = "operand")
    {
        if (!Accepts(k, t.DType))
            throw new ArgumentException($"{op}: {what} of dtype {t.DType.Name()} (shape {t.Shape}) is not supported; expected {Describe(k)}");
    }

    static string Describe(Kinds k) => k switch
    {
        Kinds.Float => "a floating-point dtype",
        Kinds.Int => "an integer dtype",
        Kinds.Numeric => "a numeric (non-bool) dtype",
        Kinds.IntOrBool => "an integer or bool dtype",
        _ => k.ToString(),
    };

    /// <summary>Throws unless all operands have the same shape.</summary>
    public static void RequireSameShapes(string op, ReadOnlySpan<AbstractValue> xs)
    {
        for (int i = 1; i < xs.Length; i++)
            if (xs[i].Shape != xs[0].Shape)
                throw new ArgumentException($"{op}: operand shapes must be equal, got {string.Join(" and ", xs.ToArray().Select(x => x.Shape.ToString()))} (use Np functions for broadcasting)");
    }

    /// <summary>Throws unless all operands have the same dtype.</summary>
    public static void RequireSameDTypes(string op, ReadOnlySpan<AbstractValue> xs)
    {
        for (int i = 1; i < xs.Length; i++)
            if (xs[i].DType != xs[0].DType)
                throw new ArgumentException($"{op}: operand dtypes must be equal, got {string.Join(" and ", xs.ToArray().Select(x => x.DType.Name()))} (use Np functions for type promotion)");
    }

    /// <summary>True when every operand is weakly typed.</summary>
    public static bool AllWeak(ReadOnlySpan<AbstractValue> xs)
    {
        foreach (var x in xs) if (!x.Weak) return false;
        return true;
    }
}
