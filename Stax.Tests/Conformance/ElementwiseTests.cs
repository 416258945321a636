using Stax.Tests.Infrastructure;
using Stax.Tests.Reference;

namespace Stax.Tests.Conformance;

/// <summary>Elementwise primitives against the reference: every op x dtype x ISA path x shape.</summary>
public class ElementwiseTests
{
    static readonly DType[] Floats = { DType.Float32, DType.Float64, DType.Float16, DType.BFloat16 };
    static readonly DType[] Ints = { DType.Int32, DType.UInt32, DType.UInt8 };
    static readonly DType[] Numeric = Floats.Concat(Ints).ToArray();
    static readonly DType[] IntsAndBool = Ints.Append(DType.Bool).ToArray();
    static readonly DType[] All = Numeric.Append(DType.Bool).ToArray();

    /// <summary>A unary case: primitive, params, dtypes, float input range, float32 rtol.</summary>
    public sealed record UnaryCase(Primitive Prim, Params P, DType[] DTypes, double Lo = -3, double Hi = 3, double Rtol32 = 1e-6, double Rtol64 = 1e-14);

    public static readonly UnaryCase[] UnaryCases =
    {
        new(Prims.Neg, Params.None, Numeric),
        new(Prims.Exp, Params.None, Floats, -10, 10),
        new(Prims.Log, Params.None, Floats, 0.001, 10),
        new(Prims.Log1p, Params.None, Floats, -0.99, 3),
        new(Prims.Expm1, Params.None, Floats, -3, 3),
        new(Prims.Tanh, Params.None, Floats, -5, 5),
        new(Prims.Logistic, Params.None, Floats, -20, 20),
        new(Prims.Sqrt, Params.None, Floats, 0, 10),
        new(Prims.Rsqrt, Params.None, Floats, 0.01, 10),
        new(Prims.Abs, Params.None, Numeric),
        new(Prims.Sign, Params.None, Numeric),
        new(Prims.Sin, Params.None, Floats, -10, 10),
        new(Prims.Cos, Params.None, Floats, -10, 10),
        new(Prims.Erf, Params.None, Floats, -4, 4, Rtol64: 1e-13),
        // XLA's float32 erf_inv rounds x*x before log1p: up to ~64 ulp from exact near ±1, as XLA.
        new(Prims.ErfInv, Params.None, Floats, -1, 1, Rtol32: 8e-6, Rtol64: 1e-12),
        new(Prims.Erfc, Params.None, Floats, -4, 9, Rtol32: 1e-6, Rtol64: 1e-12),
        new(Prims.Tan, Params.None, Floats, -1.5, 1.5, Rtol32: 2e-6),
        new(Prims.Cbrt, Params.None, Floats, -100, 100, Rtol32: 2e-7),
        new(Prims.Asin, Params.None, Floats, -1, 1, Rtol32: 2e-6),
        new(Prims.Acos, Params.None, Floats, -1, 1, Rtol32: 2e-6),
        new(Prims.Atan, Params.None, Floats, -10, 10, Rtol32: 2e-6),
        new(Prims.Sinh, Params.None, Floats, -10, 10, Rtol32: 2e-6),
        new(Prims.Cosh, Params.None, Floats, -10, 10, Rtol32: 2e-6),
        new(Prims.Asinh, Params.None, Floats, -100, 100, Rtol32: 2e-6),
        new(Prims.Acosh, Params.None, Floats, 1, 100, Rtol32: 2e-6),
        new(Prims.Atanh, Params.None, Floats, -0.99, 0.99, Rtol32: 2e-6),
        new(Prims.Floor, Params.None, Floats, -5, 5),
        new(Prims.Ceil, Params.None, Floats, -5, 5),
        new(Prims.Round, new RoundParams(RoundingMethod.AwayFromZero), Floats, -5, 5),
        new(Prims.Round, new RoundParams(RoundingMethod.ToNearestEven), Floats, -5, 5),
        new(Prims.Not, Params.None, IntsAndBool),
        new(Prims.IsFinite, Params.None, Floats),
    };

    /// <summary>A binary case: y range applies to the second operand (floats; ints use Ylo..Yhi when set).</summary>
    public sealed record BinaryCase(Primitive Prim, DType[] DTypes, double Lo = -3, double Hi = 3, double YLo = -3, double YHi = 3,
        (int, int)? IntCounts = null, double Rtol32 = 1e-6);

    public static readonly BinaryCase[] BinaryCases =
    {
        new(Prims.Add, Numeric), new(Prims.Sub, Numeric), new(Prims.Mul, Numeric), new(Prims.Div, Numeric),
        new(Prims.Rem, Numeric), new(Prims.Pow, Floats, 0.01, 4, -4, 4), new(Prims.Max, All), new(Prims.Min, All),
        new(Prims.Atan2, Floats, -3, 3, -3, 3, Rtol32: 2e-6),
        new(Prims.NextAfter, new[] { DType.Float32, DType.Float64 }, Rtol32: 0), new(Prims.And, IntsAndBool), new(Prims.Or, IntsAndBool), new(Prims.Xor, IntsAndBool),
        new(Prims.ShiftLeft, Ints, IntCounts: (-3, 40)), new(Prims.ShiftRightLogical, Ints, IntCounts: (-3, 40)),
        new(Prims.ShiftRightArithmetic, Ints, IntCounts: (-3, 40)),
        new(Prims.Eq, All), new(Prims.Ne, All), new(Prims.Lt, All), new(Prims.Le, All), new(Prims.Gt, All), new(Prims.Ge, All),
    };

    static double Rtol(DType t, double r32, double r64) => t switch
    {
        DType.Float32 => r32,
        DType.Float64 => r64,
        DType.Float16 => 2e-3,
        DType.BFloat16 => 1.6e-2,
        _ => 0,
    };

    static int Seed(string s, int k) { int h = k; foreach (char c in s) h = h * 31 + c; return h & 0x7FFFFFFF; }

    static Tensor Input(int seed, int[] shape, DType t, double lo, double hi) => TestData.Tensor(seed, shape, t, lo, hi, specials: true);

    // The second operand: specials in reverse order, so NaN/Inf/-0 meet other values.
    static Tensor Second(int seed, int[] shape, DType t, double lo, double hi, (int, int)? counts)
    {
        var v = TestData.Values(seed, shape.Aggregate(1L, (a, b) => a * b), t, lo, hi, specials: true);
        if (counts is var (clo, chi) && t.IsInteger())
        {
            var rng = new Random(seed);
            for (int i = 0; i < v.Length; i++) v[i] = t == DType.UInt8 ? rng.Next(0, 12) : rng.Next(clo, chi);
        }
        Array.Reverse(v);
        return new RefArray(shape, t, v.Select(x => RefArray.Fit(x, t)).ToArray()).ToTensor();
    }

    static void RunUnary(UnaryCase c, DType t, int[] shape)
        => Check.AgainstReference(c.Prim, c.P, new[] { Input(Seed(c.Prim.Name, shape.Length + shape.Sum()), shape, t, c.Lo, c.Hi) },
            rtol: Rtol(t, c.Rtol32, c.Rtol64), context: $"{c.Prim.Name} {c.P} {t.Name()} {Shape.Format(shape)} isa {Config.Isa}");

    static void RunBinary(BinaryCase c, DType t, int[] shape)
    {
        int s = Seed(c.Prim.Name, shape.Length + shape.Sum());
        var x = Input(s, shape, t, c.Lo, c.Hi);
        var y = Second(s + 1, shape, t, c.YLo, c.YHi, c.IntCounts);
        Check.AgainstReference(c.Prim, Params.None, new[] { x, y }, rtol: Rtol(t, c.Rtol32, 1e-14),
            context: $"{c.Prim.Name} {t.Name()} {Shape.Format(shape)} isa {Config.Isa}");
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void UnaryMatchesReference(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        foreach (var c in UnaryCases)
            foreach (var t in c.DTypes)
                foreach (var shape in TestData.Shapes)
                    RunUnary(c, t, shape);
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void BinaryMatchesReference(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        foreach (var c in BinaryCases)
            foreach (var t in c.DTypes)
                foreach (var shape in TestData.Shapes)
                    RunBinary(c, t, shape);
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void SelectMatchesReference(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        foreach (var t in All)
            foreach (var shape in TestData.Shapes.Append(new[] { 131 }))
            {
                var pred = TestData.Tensor(3, shape, DType.Bool);
                Check.AgainstReference(Prims.Select, Params.None,
                    new[] { pred, Input(4, shape, t, -3, 3), Input(5, shape, t, -3, 3) }, context: $"select {t.Name()} {Shape.Format(shape)} {isa}");
            }
    }

    /// <summary>The > 64K case (threads and tails) once per op, float32 and one integer dtype.</summary>
    [Fact]
    public void LargeMatchesReference()
    {
        foreach (var c in UnaryCases)
        {
            RunUnary(c, c.DTypes[0], TestData.Large);
            if (c.DTypes[0] != DType.Int32 && c.DTypes.Contains(DType.Int32)) RunUnary(c, DType.Int32, TestData.Large);
        }
        foreach (var c in BinaryCases)
        {
            RunBinary(c, c.DTypes[0], TestData.Large);
            if (c.DTypes[0] != DType.Int32 && c.DTypes.Contains(DType.Int32)) RunBinary(c, DType.Int32, TestData.Large);
        }
        var pred = TestData.Tensor(3, TestData.Large, DType.Bool);
        foreach (var t in new[] { DType.Float32, DType.Float64, DType.UInt8, DType.Float16 })
            Check.AgainstReference(Prims.Select, Params.None, new[] { pred, Input(4, TestData.Large, t, -3, 3), Input(5, TestData.Large, t, -3, 3) });
    }
}
