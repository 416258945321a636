namespace Stax;

/// <summary>
/// JAX's type-promotion lattice with weak types. A weakly typed value (a C# scalar such as
/// <c>2.0</c> in <c>x * 2.0</c>) takes the other operand's type. Nodes: bool → i* → (uint8, int32),
/// uint8 → (uint32, int32), (uint32, int32) → int64 → f* → (float16, bfloat16) → float32 → float64.
/// Stax has no 64-bit integers, so int64 is canonicalised to int32 as JAX does with x64 disabled
/// (uint32 + int32 gives int32). Weak int (i*) becomes int32 and weak float (f*) float32, weakly typed.
/// </summary>
public static class TypePromotion
{
    enum Node { Bool, WeakInt, U8, U32, I32, I64, WeakFloat, F16, BF16, F32, F64 }

    static readonly Node[][] Up =
    {
        /* Bool */ new[] { Node.WeakInt },
        /* WeakInt */ new[] { Node.U8, Node.I32 },
        /* U8 */ new[] { Node.U32, Node.I32 },
        /* U32 */ new[] { Node.I64 },
        /* I32 */ new[] { Node.I64 },
        /* I64 */ new[] { Node.WeakFloat },
        /* WeakFloat */ new[] { Node.F16, Node.BF16 },
        /* F16 */ new[] { Node.F32 },
        /* BF16 */ new[] { Node.F32 },
        /* F32 */ new[] { Node.F64 },
        /* F64 */ Array.Empty<Node>(),
    };

    static readonly int[] Ancestors = BuildAncestors();

    static int[] BuildAncestors()
    {
        int n = Up.Length;
        var result = new int[n];
        for (int i = n - 1; i >= 0; i--)
        {
            int set = 1 << i;
            foreach (var u in Up[i]) set |= result[(int)u];
            result[i] = set;
        }
        return result;
    }

    static Node ToNode(DType t, bool weak) => t switch
    {
        DType.Bool => Node.Bool,
        _ when weak && t.IsFloat() => Node.WeakFloat,
        _ when weak => Node.WeakInt,
        DType.UInt8 => Node.U8,
        DType.UInt32 => Node.U32,
        DType.Int32 => Node.I32,
        DType.Float16 => Node.F16,
        DType.BFloat16 => Node.BF16,
        DType.Float32 => Node.F32,
        DType.Float64 => Node.F64,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>The result type of combining the given (dtype, weak) operands.</summary>
    public static (DType DType, bool Weak) Result(ReadOnlySpan<(DType DType, bool Weak)> operands)
    {
        if (operands.Length == 0) throw new ArgumentException("TypePromotion.Result: no operands");
        int common = ~0;
        foreach (var (t, w) in operands) common &= Ancestors[(int)ToNode(t, w)];
        // The join is the least element of the common upper set: the one with most ancestors.
        Node join = Node.F64;
        int best = -1;
        for (int i = 0; i < Up.Length; i++)
        {
            if ((common & (1 << i)) == 0) continue;
            int size = System.Numerics.BitOperations.PopCount((uint)Ancestors[i]);
            if (size > best) { best = size; join = (Node)i; }
        }
        return join switch
        {
            Node.Bool => (DType.Bool, false),
            Node.WeakInt => (DType.Int32, true),
            Node.U8 => (DType.UInt8, false),
            Node.U32 => (DType.UInt32, false),
            Node.I32 or Node.I64 => (DType.Int32, false),
            Node.WeakFloat => (DType.Float32, true),
            Node.F16 => (DType.Float16, false),
            Node.BF16 => (DType.BFloat16, false),
            Node.F32 => (DType.Float32, false),
            _ => (DType.Float64, false),
        };
    }

    /// <summary>The result type of combining two operands.</summary>
    public static (DType DType, bool Weak) Result(DType a, bool aWeak, DType b, bool bWeak)
        => Result(stackalloc[] { (a, aWeak), (b, bWeak) });
}
