using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Stax.Backends.Cpu;

public sealed partial class CpuBackend
{
    static partial void RegisterRandom()
    {
        Kernels[Prims.Threefry2x32] = (p, ins, outs, it, ot) => Threefry.Run(ins, outs);
    }

    /// <summary>
    /// Threefry-2x32, 20 rounds, elementwise over four uint32 inputs. Pure integer arithmetic
    /// (wrapping add, rotate, xor), so the scalar and every vector width agree bit for bit.
    /// </summary>
    static class Threefry
    {
        const long Grain = 1 << 12; // ~100 integer operations per element

        public static void Run(CpuBuffer[] ins, CpuBuffer[] outs)
        {
            var isa = Config.Isa;
            byte[] k0 = ins[0].Data, k1 = ins[1].Data, x0 = ins[2].Data, x1 = ins[3].Data, y0 = outs[0].Data, y1 = outs[1].Data;
            CpuParallel.For(outs[0].Length, Grain, (s, e) =>
            {
                int n = (int)(e - s);
                int i = isa switch
                {
                    Isa.Vector512 => Range<V512>(k0, k1, x0, x1, y0, y1, s, n),
                    Isa.Vector256 => Range<V256>(k0, k1, x0, x1, y0, y1, s, n),
                    Isa.Vector128 => Range<V128>(k0, k1, x0, x1, y0, y1, s, n),
                    _ => 0,
                };
                for (; i < n; i++)
                {
                    long j = s + i;
                    (At(y0, j), At(y1, j)) = Scalar(At(k0, j), At(k1, j), At(x0, j), At(x1, j));
                }
            });
        }

        static ref uint At(byte[] a, long i)
            => ref Unsafe.Add(ref Unsafe.As<byte, uint>(ref MemoryMarshal.GetArrayDataReference(a)), (nint)i);

        static uint Rotl(uint x, int r) => (x << r) | (x >> (32 - r));

        internal static (uint, uint) Scalar(uint key0, uint key1, uint a, uint b)
        {
            uint ks0 = key0, ks1 = key1, ks2 = key0 ^ key1 ^ 0x1BD11BDA;
            a += ks0; b += ks1;
            R(ref a, ref b, 13); R(ref a, ref b, 15); R(ref a, ref b, 26); R(ref a, ref b, 6);
            a += ks1; b += ks2 + 1;
            R(ref a, ref b, 17); R(ref a, ref b, 29); R(ref a, ref b, 16); R(ref a, ref b, 24);
            a += ks2; b += ks0 + 2;
            R(ref a, ref b, 13); R(ref a, ref b, 15); R(ref a, ref b, 26); R(ref a, ref b, 6);
            a += ks0; b += ks1 + 3;
            R(ref a, ref b, 17); R(ref a, ref b, 29); R(ref a, ref b, 16); R(ref a, ref b, 24);
            a += ks1; b += ks2 + 4;
            R(ref a, ref b, 13); R(ref a, ref b, 15); R(ref a, ref b, 26); R(ref a, ref b, 6);
            a += ks2; b += ks0 + 5;
            return (a, b);

            static void R(ref uint x, ref uint y, int r) { x += y; y = Rotl(y, r); y ^= x; }
        }

        static int Range<V>(byte[] k0, byte[] k1, byte[] x0, byte[] x1, byte[] y0, byte[] y1, long s, int n) where V : struct, IU32<V>
        {
            int i = 0;
            for (; i <= n - V.Count; i += V.Count)
            {
                long j = s + i;
                V ks0 = V.Load(ref At(k0, j)), ks1 = V.Load(ref At(k1, j));
                V ks2 = ks0 ^ ks1 ^ V.C(0x1BD11BDA);
                V a = V.Load(ref At(x0, j)) + ks0, b = V.Load(ref At(x1, j)) + ks1;
                Group<V>(ref a, ref b, 13, 15, 26, 6);
                a += ks1; b += ks2 + V.C(1);
                Group<V>(ref a, ref b, 17, 29, 16, 24);
                a += ks2; b += ks0 + V.C(2);
                Group<V>(ref a, ref b, 13, 15, 26, 6);
                a += ks0; b += ks1 + V.C(3);
                Group<V>(ref a, ref b, 17, 29, 16, 24);
                a += ks1; b += ks2 + V.C(4);
                Group<V>(ref a, ref b, 13, 15, 26, 6);
                a += ks2; b += ks0 + V.C(5);
                a.Store(ref At(y0, j));
                b.Store(ref At(y1, j));
            }
            return i;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Group<V>(ref V a, ref V b, int r0, int r1, int r2, int r3) where V : struct, IU32<V>
        {
            a += b; b = V.Rotl(b, r0) ^ a;
            a += b; b = V.Rotl(b, r1) ^ a;
            a += b; b = V.Rotl(b, r2) ^ a;
            a += b; b = V.Rotl(b, r3) ^ a;
        }
    }

    /// <summary>The uint32 vector operations Threefry needs, at one width.</summary>
    interface IU32<V> where V : struct, IU32<V>
    {
        static abstract int Count { get; }
        static abstract V Load(ref uint p);
        void Store(ref uint p);
        static abstract V C(uint c);
        static abstract V operator +(V a, V b);
        static abstract V operator ^(V a, V b);
        static abstract V Rotl(V a, int r);
    }

    readonly struct V512(Vector512<uint> v) : IU32<V512>
    {
        readonly Vector512<uint> _v = v;
        public static int Count => Vector512<uint>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Load(ref uint p) => new(Vector512.LoadUnsafe(ref p));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(ref uint p) => _v.StoreUnsafe(ref p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 C(uint c) => new(Vector512.Create(c));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator +(V512 a, V512 b) => new(a._v + b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator ^(V512 a, V512 b) => new(a._v ^ b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Rotl(V512 a, int r) => new(Vector512.ShiftLeft(a._v, r) | Vector512.ShiftRightLogical(a._v, 32 - r));
    }

    readonly struct V256(Vector256<uint> v) : IU32<V256>
    {
        readonly Vector256<uint> _v = v;
        public static int Count => Vector256<uint>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Load(ref uint p) => new(Vector256.LoadUnsafe(ref p));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(ref uint p) => _v.StoreUnsafe(ref p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 C(uint c) => new(Vector256.Create(c));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator +(V256 a, V256 b) => new(a._v + b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator ^(V256 a, V256 b) => new(a._v ^ b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Rotl(V256 a, int r) => new(Vector256.ShiftLeft(a._v, r) | Vector256.ShiftRightLogical(a._v, 32 - r));
    }

    readonly struct V128(Vector128<uint> v) : IU32<V128>
    {
        readonly Vector128<uint> _v = v;
        public static int Count => Vector128<uint>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Load(ref uint p) => new(Vector128.LoadUnsafe(ref p));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(ref uint p) => _v.StoreUnsafe(ref p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 C(uint c) => new(Vector128.Create(c));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator +(V128 a, V128 b) => new(a._v + b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator ^(V128 a, V128 b) => new(a._v ^ b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Rotl(V128 a, int r) => new(Vector128.ShiftLeft(a._v, r) | Vector128.ShiftRightLogical(a._v, 32 - r));
    }
}
