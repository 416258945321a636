using System.Globalization;

namespace Stax.Vulkan;

/// <summary>Which GEMM kernel runs matrix products (<c>STAX_VULKAN_GEMM</c>).</summary>
internal enum GemmKernel
{
    /// <summary>Per device: the blocked kernel on CPU drivers, the tiled kernel on GPUs.</summary>
    Auto,
    /// <summary>shaders/gemm.glsl: 4x4 register blocks, no shared memory (fastest on lavapipe, a CPU).</summary>
    Blocked,
    /// <summary>shaders/gemm_tiled.glsl: shared-memory tiles, double buffered, per-device tile shapes.</summary>
    Tiled,
}

/// <summary>
/// A tile shape of the tiled GEMM: a workgroup computes a <see cref="BM"/> x <see cref="BN"/> block of C
/// stepping through K by <see cref="BK"/>, each invocation a <see cref="TM"/> x <see cref="TN"/> register tile.
/// </summary>
internal readonly record struct GemmTile(int BM, int BN, int BK, int TM, int TN)
{
    /// <summary>Invocations per workgroup.</summary>
    public int Invocations => BM / TM * (BN / TN);

    /// <summary>Shared memory the tile needs: two k-major buffers of each operand, rows padded by 4 elements.</summary>
    public int SharedBytes => 2 * BK * (BM + 4 + BN + 4) * 4;

    /// <summary>True when the shader's layout rules hold (multiples of 4, whole 4-vector load groups per invocation).</summary>
    public bool Valid => BM > 0 && BN > 0 && BK > 0 && TM > 0 && TN > 0
        && TM % 4 == 0 && TN % 4 == 0 && BK % 4 == 0 && BM % TM == 0 && BN % TN == 0
        && BM * BK % (4 * Invocations) == 0 && BN * BK % (4 * Invocations) == 0;

    /// <summary>Whether a device with these limits can run the tile (whole subgroups, so no lane idles).</summary>
    public bool Fits(VulkanCapabilities caps) =>
        Valid && Invocations <= caps.MaxComputeWorkGroupInvocations && SharedBytes <= caps.MaxComputeSharedMemorySize
        && (caps.SubgroupSize == 0 || Invocations % caps.SubgroupSize == 0);

    /// <summary>The shape as <c>BMxBNxBK/TMxTN</c> (the <c>STAX_VULKAN_GEMM_TILE</c> syntax).</summary>
    public override string ToString() => FormattableString.Invariant($"{BM}x{BN}x{BK}/{TM}x{TN}");

    /// <summary>Parses <c>BMxBNxBK/TMxTN</c>, e.g. <c>128x128x16/8x8</c>.</summary>
    public static GemmTile Parse(string text, string source)
    {
        var parts = text.Split('/');
        var outer = parts[0].Split('x');
        var inner = parts.Length == 2 ? parts[1].Split('x') : Array.Empty<string>();
        var all = outer.Concat(inner).ToArray();
        if (outer.Length != 3 || inner.Length != 2
            || !all.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            throw new ArgumentException($"{source}={text}: expected BMxBNxBK/TMxTN, e.g. 128x128x16/8x8");
        var v = all.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var tile = new GemmTile(v[0], v[1], v[2], v[3], v[4]);
        if (!tile.Valid)
            throw new ArgumentException($"{source}={text}: TM, TN and BK must be multiples of 4 dividing the tile, and "
                                        + "BM*BK and BN*BK multiples of 4 x the invocations (BM/TM)*(BN/TN)");
        return tile;
    }
}

/// <summary>
/// The per-device GEMM choice: kernel, tile shape and split-K slices. The thresholds are first
/// guesses for large GPUs (an H200 has 132 multiprocessors), to be tuned with <c>Stax.Bench vulkan --gemm</c>.
/// </summary>
internal static class GemmTiling
{
    /// <summary>The tile shapes, largest first: 128x128 with 8x8 per invocation for big outputs (BK 8 where
    /// 33 KiB of shared memory do not fit), smaller tiles when the output has too few big tiles to fill the device.</summary>
    public static readonly GemmTile[] Sets =
    {
        new(128, 128, 16, 8, 8),
        new(128, 128, 8, 8, 8),
        new(128, 64, 16, 8, 4),
        new(64, 64, 16, 4, 4),
        new(32, 32, 16, 4, 4),
    };

    /// <summary>Workgroups that keep a large GPU busy; fewer tiles than this choose a smaller tile, then split K.</summary>
    public const long FillWorkgroups = 256;
    /// <summary>Contraction length each split-K slice keeps at least (shorter slices spend more on the partial sums).</summary>
    public const long MinSliceK = 512;
    /// <summary>Most split-K slices.</summary>
    public const int MaxSlices = 64;

    /// <summary>Tiles of <paramref name="t"/> covering a batch of m x n outputs.</summary>
    public static long Tiles(GemmTile t, long batch, long m, long n) => batch * ((m + t.BM - 1) / t.BM) * ((n + t.BN - 1) / t.BN);

    /// <summary>The kernel for a device: the blocked kernel on CPU drivers, the tiled one on GPUs.</summary>
    public static GemmKernel Kernel(VulkanCapabilities caps) =>
        caps.DeviceType == "Cpu" || !Sets.Any(t => t.Fits(caps)) ? GemmKernel.Blocked : GemmKernel.Tiled;

    /// <summary>The largest tile that fits the device and still gives <see cref="FillWorkgroups"/> workgroups,
    /// else the smallest that fits.</summary>
    public static GemmTile Choose(VulkanCapabilities caps, long batch, long m, long n)
    {
        var fit = Sets.Where(t => t.Fits(caps)).ToArray();
        if (fit.Length == 0)
            throw new NotSupportedException("dot_general: no tiled GEMM shape fits this device ("
                                            + $"{caps.MaxComputeSharedMemorySize} bytes of shared memory, "
                                            + $"{caps.MaxComputeWorkGroupInvocations} invocations)");
        foreach (var t in fit)
            if (Tiles(t, batch, m, n) >= FillWorkgroups) return t;
        return fit[^1];
    }

    /// <summary>
    /// Split-K slices for a product: 1 unless the output has too few tiles to fill the device and the
    /// contraction is long; then enough slices to fill it, each at least <see cref="MinSliceK"/> long.
    /// </summary>
    public static int Slices(GemmTile t, long batch, long m, long n, long k)
    {
        long tiles = Tiles(t, batch, m, n);
        if (tiles >= FillWorkgroups || k < 2 * MinSliceK) return 1;
        long want = (FillWorkgroups + tiles - 1) / tiles;
        return (int)Math.Clamp(Math.Min(want, k / MinSliceK), 1, MaxSlices);
    }
}
