using Stax.Backends.Cpu;
using Stax.Backends.Cpu.Simd;

namespace Stax.Backends;

/// <summary>
/// The elementwise registry: every elementwise primitive's operators, named once. The CPU
/// backend's eager kernels and its fused float32 chains, and the Vulkan backend's op-code table,
/// are all built from this list, so adding an operator here makes it available everywhere (the
/// Vulkan shader still needs its case; see docs/adding-a-primitive.md).
/// </summary>
internal static class ElementwiseOps
{
    /// <summary>Every entry, in Vulkan op-code order.</summary>
    public static IReadOnlyList<ElementwiseOp> All { get; } = Build();

    static readonly Dictionary<Primitive, ElementwiseOp[]> ByPrimitive =
        All.GroupBy(o => o.Primitive).ToDictionary(g => g.Key, g => g.ToArray());

    /// <summary>The primitives the registry covers.</summary>
    public static IEnumerable<Primitive> Primitives => ByPrimitive.Keys;

    /// <summary>The entries of <paramref name="primitive"/> (empty when it is not elementwise).</summary>
    public static IReadOnlyList<ElementwiseOp> Of(Primitive primitive)
        => ByPrimitive.TryGetValue(primitive, out var ops) ? ops : Array.Empty<ElementwiseOp>();

    /// <summary>The entry serving <paramref name="primitive"/> with <paramref name="parameters"/>, or null.</summary>
    public static ElementwiseOp? Find(Primitive primitive, Params parameters)
    {
        if (!ByPrimitive.TryGetValue(primitive, out var ops)) return null;
        foreach (var op in ops)
            if (op.Applies is null || op.Applies(parameters)) return op;
        return null;
    }

    // Shorthands: U/B/C/P wrap an operator struct for one dtype; F* wrap a float32 one.
    static CpuOperator U<TOp, T>() where TOp : IUnaryOp<T> where T : unmanaged => new UnaryOperator<TOp, T>();
    static CpuOperator B<TOp, T>() where TOp : IBinaryOp<T> where T : unmanaged => new BinaryOperator<TOp, T>();
    static CpuOperator C<TOp, T>() where TOp : IComparison<T> where T : unmanaged => new ComparisonOperator<TOp, T>();
    static CpuFloat32Operator FU<TOp>() where TOp : IUnaryOp<float> => new UnaryF32Operator<TOp>();
    static CpuFloat32Operator FA<TA>() where TA : IFloatAlgo1 => new UnaryF32Operator<VecUnary<TA>>();
    static CpuFloat32Operator FB<TOp>() where TOp : IBinaryOp<float> => new BinaryF32Operator<TOp>();
    static CpuFloat32Operator FC<TOp>() where TOp : IComparison<float> => new ComparisonF32Operator<TOp>();

    static ElementwiseOp Unary(Primitive p, int vk, CpuFloat32Operator f32, CpuOperator f64) => new(p, ElementwiseArity.Unary, vk, f32, f64);
    static ElementwiseOp Binary(Primitive p, int vk, CpuFloat32Operator f32, CpuOperator f64) => new(p, ElementwiseArity.Binary, vk, f32, f64);

    /// <summary>A comparison for every dtype (bool compares its 0/1 bytes).</summary>
    static ElementwiseOp Compare<TF, TD, TI, TU, TB>(Primitive p, int vk)
        where TF : IComparison<float> where TD : IComparison<double> where TI : IComparison<int>
        where TU : IComparison<uint> where TB : IComparison<byte>
        => new(p, ElementwiseArity.Comparison, vk, FC<TF>(), C<TD, double>(), C<TI, int>(), C<TU, uint>(), C<TB, byte>(), C<TB, byte>());

    static ElementwiseOp[] Build()
    {
        var ops = new List<ElementwiseOp>
        {
            // ------------------------------------------------ unary (Vulkan op codes 0..31)
            new(Prims.Neg, ElementwiseArity.Unary, 0, FA<NegAlgo>(), U<NegD, double>(),
                U<NegInt<int>, int>(), U<NegInt<uint>, uint>(), U<NegInt<byte>, byte>()),
            Unary(Prims.Exp, 1, FA<ExpAlgo>(), U<ExpD, double>()),
            Unary(Prims.Log, 2, FA<LogAlgo>(), U<LogD, double>()),
            Unary(Prims.Log1p, 3, FA<Log1pAlgo>(), U<Log1pD, double>()),
            Unary(Prims.Expm1, 4, FA<Expm1Algo>(), U<Expm1D, double>()),
            Unary(Prims.Tanh, 5, FA<TanhAlgo>(), U<TanhD, double>()),
            Unary(Prims.Logistic, 6, FA<LogisticAlgo>(), U<LogisticD, double>()),
            Unary(Prims.Sqrt, 7, FA<SqrtAlgo>(), U<SqrtD, double>()),
            Unary(Prims.Rsqrt, 8, FA<RsqrtAlgo>(), U<RsqrtD, double>()),
            // abs of an unsigned integer is the identity; int32 wraps (abs(INT_MIN) = INT_MIN).
            new(Prims.Abs, ElementwiseArity.Unary, 9, FA<AbsAlgo>(), U<AbsD, double>(),
                U<AbsInt, int>(), U<IdentityOp<uint>, uint>(), U<IdentityOp<byte>, byte>()),
            new(Prims.Sign, ElementwiseArity.Unary, 10, FA<SignAlgo>(), U<SignD, double>(),
                U<SignInt<int>, int>(), U<SignInt<uint>, uint>(), U<SignInt<byte>, byte>()),
            Unary(Prims.Sin, 11, FA<SinAlgo>(), U<SinD, double>()),
            Unary(Prims.Cos, 12, FA<CosAlgo>(), U<CosD, double>()),
            Unary(Prims.Erf, 13, FA<ErfAlgo>(), U<ErfD, double>()),
            Unary(Prims.ErfInv, 14, FA<ErfInvAlgo>(), U<ErfInvD, double>()),
            Unary(Prims.Floor, 15, FA<FloorAlgo>(), U<FloorD, double>()),
            Unary(Prims.Ceil, 16, FA<CeilAlgo>(), U<CeilD, double>()),
            Unary(Prims.Round, 17, FA<RoundAwayAlgo>(), U<RoundAwayD, double>())
                with { Applies = p => p is RoundParams { Method: RoundingMethod.AwayFromZero } },
            Unary(Prims.Round, 18, FA<RoundEvenAlgo>(), U<RoundEvenD, double>())
                with { Applies = p => p is RoundParams { Method: RoundingMethod.ToNearestEven } },
            // Bitwise not acts on the bit pattern; bool is logical not of 0/1 bytes.
            new(Prims.Not, ElementwiseArity.Unary, 19, Int32: U<NotOp<int>, int>(), UInt32: U<NotOp<uint>, uint>(),
                UInt8: U<NotOp<byte>, byte>(), Bool: U<NotBoolOp, byte>()),
            new(Prims.IsFinite, ElementwiseArity.Predicate, 20, new PredicateF32Operator<IsFiniteOp<float>>(),
                new PredicateOperator<IsFiniteOp<double>, double>()),

            // ------------------------------------------------ binary (32..63)
            new(Prims.Add, ElementwiseArity.Binary, 32, FB<AddOp<float>>(), B<AddOp<double>, double>(),
                B<AddOp<int>, int>(), B<AddOp<uint>, uint>(), B<AddOp<byte>, byte>()),
            new(Prims.Sub, ElementwiseArity.Binary, 33, FB<SubOp<float>>(), B<SubOp<double>, double>(),
                B<SubOp<int>, int>(), B<SubOp<uint>, uint>(), B<SubOp<byte>, byte>()),
            new(Prims.Mul, ElementwiseArity.Binary, 34, FB<MulOp<float>>(), B<MulOp<double>, double>(),
                B<MulOp<int>, int>(), B<MulOp<uint>, uint>(), B<MulOp<byte>, byte>()),
            new(Prims.Div, ElementwiseArity.Binary, 35, FB<DivF<float>>(), B<DivF<double>, double>(),
                B<DivI32, int>(), B<DivU32, uint>(), B<DivU8, byte>()),
            new(Prims.Rem, ElementwiseArity.Binary, 36, FB<RemF>(), B<RemD, double>(),
                B<RemI32, int>(), B<RemU32, uint>(), B<RemU8, byte>()),
            Binary(Prims.Pow, 37, FB<PowF>(), B<PowD, double>()),
            // max/min of bools is or/and of 0/1 bytes.
            new(Prims.Max, ElementwiseArity.Binary, 38, FB<MaxOp<float>>(), B<MaxOp<double>, double>(),
                B<MaxOp<int>, int>(), B<MaxOp<uint>, uint>(), B<MaxOp<byte>, byte>(), B<MaxOp<byte>, byte>()),
            new(Prims.Min, ElementwiseArity.Binary, 39, FB<MinOp<float>>(), B<MinOp<double>, double>(),
                B<MinOp<int>, int>(), B<MinOp<uint>, uint>(), B<MinOp<byte>, byte>(), B<MinOp<byte>, byte>()),
            Binary(Prims.Atan2, 40, FB<VecBinary<Atan2Algo>>(), B<Atan2D, double>()),
            new(Prims.And, ElementwiseArity.Binary, 41, Int32: B<AndOp<int>, int>(), UInt32: B<AndOp<uint>, uint>(),
                UInt8: B<AndOp<byte>, byte>(), Bool: B<AndOp<byte>, byte>()),
            new(Prims.Or, ElementwiseArity.Binary, 42, Int32: B<OrOp<int>, int>(), UInt32: B<OrOp<uint>, uint>(),
                UInt8: B<OrOp<byte>, byte>(), Bool: B<OrOp<byte>, byte>()),
            new(Prims.Xor, ElementwiseArity.Binary, 43, Int32: B<XorOp<int>, int>(), UInt32: B<XorOp<uint>, uint>(),
                UInt8: B<XorOp<byte>, byte>(), Bool: B<XorOp<byte>, byte>()),
            // Shifts act on the 32-bit pattern, so uint32 runs the int32 operator.
            new(Prims.ShiftLeft, ElementwiseArity.Binary, 44, Int32: B<ShlI32, int>(), UInt32: B<ShlI32, int>(), UInt8: B<ShlU8, byte>()),
            new(Prims.ShiftRightLogical, ElementwiseArity.Binary, 45, Int32: B<ShrLI32, int>(), UInt32: B<ShrLI32, int>(), UInt8: B<ShrLU8, byte>()),
            new(Prims.ShiftRightArithmetic, ElementwiseArity.Binary, 46, Int32: B<ShrAI32, int>(), UInt32: B<ShrAI32, int>(), UInt8: B<ShrAU8, byte>()),
            Compare<EqOp<float>, EqOp<double>, EqOp<int>, EqOp<uint>, EqOp<byte>>(Prims.Eq, 47),
            Compare<NeOp<float>, NeOp<double>, NeOp<int>, NeOp<uint>, NeOp<byte>>(Prims.Ne, 48),
            Compare<LtOp<float>, LtOp<double>, LtOp<int>, LtOp<uint>, LtOp<byte>>(Prims.Lt, 49),
            Compare<LeOp<float>, LeOp<double>, LeOp<int>, LeOp<uint>, LeOp<byte>>(Prims.Le, 50),
            Compare<GtOp<float>, GtOp<double>, GtOp<int>, GtOp<uint>, GtOp<byte>>(Prims.Gt, 51),
            Compare<GeOp<float>, GeOp<double>, GeOp<int>, GeOp<uint>, GeOp<byte>>(Prims.Ge, 52),
        };
        return ops.ToArray();
    }
}
