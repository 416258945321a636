using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Simd;

namespace Stax.Backends.Cpu;

/// <summary>
/// One float32 operator as a fused chain applies it to cache-resident tiles (see
/// <see cref="FusedStep"/>). Each is built from the same operator struct the eager kernel uses, so a
/// fused chain gives bit-identical results to evaluating its equations one by one.
/// </summary>
internal abstract class FusedInstr
{
    /// <summary>y = op(a, b) over n elements; <paramref name="s"/> is the value of a splat operand.</summary>
    public abstract void Run(Isa isa, ref float a, ref float b, ref float y, int n, float s);
    /// <summary>The same operator with its first (0) or second (1) operand a splat.</summary>
    public virtual FusedInstr WithSplat(int operand) => throw new InvalidOperationException("Internal error: unary operator with a splat operand");
    /// <summary>
    /// This operator (one with a splat operand) followed by <paramref name="outer"/> (a tile-by-tile
    /// binary operator that reads its result, as its first operand when <paramref name="innerFirst"/>)
    /// as one superinstruction; null when there is none.
    /// </summary>
    public virtual FusedInstr? ThenBinary(FusedInstr outer, bool innerFirst) => null;
    /// <summary>
    /// The superinstruction of a splat operator <typeparamref name="TInner"/> followed by this one; null if none.
    /// </summary>
    public virtual FusedInstr? AfterSplat<TInner>(bool splatFirst, bool innerFirst) where TInner : IBinaryOp<float> => null;
    /// <summary>
    /// The operator structs this instruction applies, for generated loops (<see cref="FusedChainCodegen"/>): the inner
    /// operator, the outer one of a superinstruction, and the operand order; null when it has none.
    /// </summary>
    public virtual (Type Inner, Type? Outer, bool SplatFirst, bool InnerFirst)? Operands => null;
    /// <summary>The inner operator's operand count (1: unary, 2: binary).</summary>
    public virtual int InnerArity => 2;
}

/// <summary>A unary float32 operator over tiles.</summary>
internal sealed class FusedUnary<TOp> : FusedInstr where TOp : IUnaryOp<float>
{
    public override void Run(Isa isa, ref float a, ref float b, ref float y, int n, float s)
        => Drivers.UnaryRange<TOp, float>(TOp.Vectorizable ? isa : Isa.Scalar, ref a, ref y, n);
    public override (Type Inner, Type? Outer, bool SplatFirst, bool InnerFirst)? Operands => (typeof(TOp), null, false, false);
    public override int InnerArity => 1;
}

/// <summary>A binary float32 operator over tiles.</summary>
internal sealed class FusedBinary<TOp> : FusedInstr where TOp : IBinaryOp<float>
{
    public override void Run(Isa isa, ref float a, ref float b, ref float y, int n, float s)
        => Drivers.BinaryRange<TOp, float>(TOp.Vectorizable ? isa : Isa.Scalar, ref a, ref b, ref y, n);
    public override FusedInstr WithSplat(int operand) => operand == 0 ? new FusedSplatFirst<TOp>() : new FusedSplatSecond<TOp>();
    public override FusedInstr? AfterSplat<TInner>(bool splatFirst, bool innerFirst)
        => new FusedSplatThenBinary<TInner, TOp>(splatFirst, innerFirst);
    public override (Type Inner, Type? Outer, bool SplatFirst, bool InnerFirst)? Operands => (typeof(TOp), null, false, false);
}

// Binary operators with a broadcast scalar operand read it from a register instead of a filled tile.
internal sealed class FusedSplatFirst<TOp> : FusedInstr where TOp : IBinaryOp<float>
{
    public override void Run(Isa isa, ref float a, ref float b, ref float y, int n, float s)
        => Drivers.BinaryRangeScalar<TOp, float>(TOp.Vectorizable ? isa : Isa.Scalar, s, ref b, ref y, n, scalarFirst: true);
    public override FusedInstr? ThenBinary(FusedInstr outer, bool innerFirst) => outer.AfterSplat<TOp>(true, innerFirst);
    public override (Type Inner, Type? Outer, bool SplatFirst, bool InnerFirst)? Operands => (typeof(TOp), null, true, false);
}

internal sealed class FusedSplatSecond<TOp> : FusedInstr where TOp : IBinaryOp<float>
{
    public override void Run(Isa isa, ref float a, ref float b, ref float y, int n, float s)
        => Drivers.BinaryRangeScalar<TOp, float>(TOp.Vectorizable ? isa : Isa.Scalar, s, ref a, ref y, n, scalarFirst: false);
    public override FusedInstr? ThenBinary(FusedInstr outer, bool innerFirst) => outer.AfterSplat<TOp>(false, innerFirst);
    public override (Type Inner, Type? Outer, bool SplatFirst, bool InnerFirst)? Operands => (typeof(TOp), null, false, false);
}

/// <summary>A comparison as a binary operator giving 1f / 0f (booleans live in tiles as 0/1 floats).</summary>
internal readonly struct MaskOf<TCmp> : IBinaryOp<float> where TCmp : IComparison<float>
{
    public static bool Vectorizable => true;
    public static float Invoke(float x, float y) => TCmp.Invoke(x, y) ? 1f : 0f;
    public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => Vector128.ConditionalSelect(TCmp.Invoke(x, y), Vector128<float>.One, Vector128<float>.Zero);
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Vector256.ConditionalSelect(TCmp.Invoke(x, y), Vector256<float>.One, Vector256<float>.Zero);
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512.ConditionalSelect(TCmp.Invoke(x, y), Vector512<float>.One, Vector512<float>.Zero);
}

/// <summary>A predicate as a unary operator giving 1f / 0f.</summary>
internal readonly struct MaskOfPredicate<TPred> : IUnaryOp<float> where TPred : IUnaryPredicate<float>
{
    public static bool Vectorizable => true;
    public static float Invoke(float x) => TPred.Invoke(x) ? 1f : 0f;
    public static Vector128<float> Invoke(Vector128<float> x) => Vector128.ConditionalSelect(TPred.Invoke(x), Vector128<float>.One, Vector128<float>.Zero);
    public static Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(TPred.Invoke(x), Vector256<float>.One, Vector256<float>.Zero);
    public static Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(TPred.Invoke(x), Vector512<float>.One, Vector512<float>.Zero);
}
