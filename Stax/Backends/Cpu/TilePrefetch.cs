using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Stax.Backends.Cpu;

/// <summary>
/// Software prefetch for a fused chain's tile loop (<see cref="FusedStep"/>). The chain's operators
/// read one array at a time (each runs over a whole tile), so an array stream coming from beyond
/// L2 is read one 4 KB run after another at the latency of memory, where a hand-written one-pass
/// loop keeps all its streams in flight together. Every cache line of every streamed array's tile
/// <see cref="Distance"/> tiles ahead is prefetched, the lines spread evenly over the current
/// tile's operators (one burst of 256 prefetches would queue behind the few miss buffers and stall
/// like the loads it replaces), all streams in turn line by line.
/// </summary>
internal static class TilePrefetch
{
    /// <summary>Tiles ahead to prefetch; 0 turns it off (a knob for the benchmarks' A/B runs).</summary>
    internal static int Distance = 2;

    const int LineFloats = 16;

    /// <summary>
    /// Points <paramref name="bases"/> at element <paramref name="at"/> of each array in
    /// <paramref name="streams"/> and returns the cache lines per stream to prefetch up to
    /// <paramref name="end"/> (at most one tile): 0 when prefetching is off, unsupported or past the end.
    /// </summary>
    public static unsafe int Aim(Span<nint> bases, byte[]?[] arrays, int[] streams, long at, long end, int tile)
    {
        if (!Sse.IsSupported || at >= end || streams.Length > bases.Length) return 0;
        // Raw addresses of unpinned arrays: a prefetch is only a hint and never faults, so an address
        // gone stale by a moving collection (large arrays do not move) costs nothing but the hint.
        for (int q = 0; q < streams.Length; q++)
        {
            ref byte data = ref MemoryMarshal.GetArrayDataReference(arrays[streams[q]]!);
            bases[q] = (nint)Unsafe.AsPointer(ref Unsafe.Add(ref data, (nint)(at * 4)));
        }
        return (int)((Math.Min(tile, end - at) + LineFloats - 1) / LineFloats);
    }

    /// <summary>Prefetches part <paramref name="part"/> of <paramref name="parts"/> of the lines aimed at.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Issue(ReadOnlySpan<nint> bases, int lines, int part, int parts)
    {
        int from = part * lines / parts, to = (part + 1) * lines / parts;
        for (int j = from; j < to; j++)
            foreach (nint b in bases)
                Sse.Prefetch0((void*)(b + j * 64));
    }
}
