using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Simd;

namespace Stax.Backends.Cpu;

/// <summary>
/// A superinstruction of the fused tile loop: <c>y = outer(inner(x, s), z)</c> (or with the operands
/// of either operator swapped), where the inner operator has a splat operand <c>s</c> and its tile is
/// read only by the outer one. One pass over the tile instead of two, the intermediate kept in a
/// register; both operators are the registry's structs applied in the same order, so the result is
/// bit-identical to the two passes (no contraction: each operation is rounded as before).
/// </summary>
internal sealed class FusedSplatThenBinary<TInner, TOuter> : FusedInstr
    where TInner : IBinaryOp<float> where TOuter : IBinaryOp<float>
{
    readonly bool _splatFirst, _innerFirst;

    /// <param name="splatFirst">The splat is the inner operator's first operand.</param>
    /// <param name="innerFirst">The inner result is the outer operator's first operand.</param>
    public FusedSplatThenBinary(bool splatFirst, bool innerFirst) => (_splatFirst, _innerFirst) = (splatFirst, innerFirst);

    /// <inheritdoc/>
    public override (Type Inner, Type? Outer, bool SplatFirst, bool InnerFirst)? Operands
        => (typeof(TInner), typeof(TOuter), _splatFirst, _innerFirst);

    /// <summary>y = outer(inner(x, s), z) over n elements: <paramref name="a"/> is x, <paramref name="b"/> is z.</summary>
    public override void Run(Isa isa, ref float a, ref float b, ref float y, int n, float s)
    {
        if (!TInner.Vectorizable || !TOuter.Vectorizable) isa = Isa.Scalar;
        // One loop per operand order, so that the order is not decided per vector.
        switch ((_splatFirst, _innerFirst))
        {
            case (true, true): Loop<SplatFirst, InnerFirst>(isa, ref a, ref b, ref y, n, s); break;
            case (true, false): Loop<SplatFirst, InnerSecond>(isa, ref a, ref b, ref y, n, s); break;
            case (false, true): Loop<SplatSecond, InnerFirst>(isa, ref a, ref b, ref y, n, s); break;
            default: Loop<SplatSecond, InnerSecond>(isa, ref a, ref b, ref y, n, s); break;
        }
    }

    static void Loop<TS, TI>(Isa isa, ref float x, ref float z, ref float y, int n, float s)
        where TS : struct, IOrder where TI : struct, IOrder
    {
        int i = 0;
        if (isa == Isa.Vector512)
        {
            var v = Vector512.Create(s);
            for (; i <= n - 16; i += 16)
            {
                var xi = Vector512.LoadUnsafe(ref x, (nuint)i);
                var t = TS.First ? TInner.Invoke(v, xi) : TInner.Invoke(xi, v);
                var zi = Vector512.LoadUnsafe(ref z, (nuint)i);
                (TI.First ? TOuter.Invoke(t, zi) : TOuter.Invoke(zi, t)).StoreUnsafe(ref y, (nuint)i);
            }
        }
        else if (isa == Isa.Vector256)
        {
            var v = Vector256.Create(s);
            for (; i <= n - 8; i += 8)
            {
                var xi = Vector256.LoadUnsafe(ref x, (nuint)i);
                var t = TS.First ? TInner.Invoke(v, xi) : TInner.Invoke(xi, v);
                var zi = Vector256.LoadUnsafe(ref z, (nuint)i);
                (TI.First ? TOuter.Invoke(t, zi) : TOuter.Invoke(zi, t)).StoreUnsafe(ref y, (nuint)i);
            }
        }
        else if (isa == Isa.Vector128)
        {
            var v = Vector128.Create(s);
            for (; i <= n - 4; i += 4)
            {
                var xi = Vector128.LoadUnsafe(ref x, (nuint)i);
                var t = TS.First ? TInner.Invoke(v, xi) : TInner.Invoke(xi, v);
                var zi = Vector128.LoadUnsafe(ref z, (nuint)i);
                (TI.First ? TOuter.Invoke(t, zi) : TOuter.Invoke(zi, t)).StoreUnsafe(ref y, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float xi = Unsafe.Add(ref x, i), zi = Unsafe.Add(ref z, i);
            float t = TS.First ? TInner.Invoke(s, xi) : TInner.Invoke(xi, s);
            Unsafe.Add(ref y, i) = TI.First ? TOuter.Invoke(t, zi) : TOuter.Invoke(zi, t);
        }
    }

    interface IOrder { static abstract bool First { get; } }
    readonly struct SplatFirst : IOrder { public static bool First => true; }
    readonly struct SplatSecond : IOrder { public static bool First => false; }
    readonly struct InnerFirst : IOrder { public static bool First => true; }
    readonly struct InnerSecond : IOrder { public static bool First => false; }
}
