namespace Stax.Vulkan;

/// <summary>How the GEMM reads one operand: element (batch, row, col) is at Off + batch·Batch + row·Row + col·Col.</summary>
internal readonly record struct MatrixView(long Off, long Batch, long Row, long Col);

public sealed partial class VulkanBackend
{
    /// <summary>Lavapipe ends a loop after 65535 iterations: longer contractions run in passes that accumulate.</summary>
    const int GemmKChunk = 32768;
    /// <summary>Use the aligned 4-wide GEMM variant where it applies (a switch for benchmarks and tests).</summary>
    internal static bool UseVec4Gemm = true;

    /// <summary>The GEMM kernel: <see cref="GemmKernel.Auto"/> defers to <c>STAX_VULKAN_GEMM</c> (tiled, blocked or
    /// auto), then to the device (a switch for benchmarks and tests).</summary>
    internal static GemmKernel GemmKernelOverride = GemmKernel.Auto;
    /// <summary>The tiled GEMM's tile shape; null defers to <c>STAX_VULKAN_GEMM_TILE</c>, then to the size rule.</summary>
    internal static GemmTile? GemmTileOverride;
    /// <summary>Split-K slices of the tiled GEMM: 0 defers to <c>STAX_VULKAN_GEMM_SPLITK</c>, then to the size
    /// rule; 1 never splits; more forces that many (fewer when K has fewer tile steps).</summary>
    internal static int GemmSlicesOverride;
    /// <summary>Most K tile steps one tiled pass runs (lavapipe ends a loop after 65535 iterations); tests lower it
    /// to exercise accumulating passes.</summary>
    internal static long TiledStepsPerPass = 32768;
    /// <summary>
    /// Shared memory a forced tile may use beyond the device's reported limit (tests only: lavapipe reports 32 KiB
    /// but sizes each workgroup's shared memory by the shader, so the GPUs' default 33 KiB tile runs there too).
    /// </summary>
    internal static int SharedMemoryAllowance;
    /// <summary>Tiled GEMM dispatches recorded so far (tests check that a forced kernel ran).</summary>
    internal long TiledGemmDispatches;

    static readonly Lazy<GemmKernel> EnvGemmKernel = new(() =>
        Environment.GetEnvironmentVariable("STAX_VULKAN_GEMM")?.Trim().ToLowerInvariant() switch
        {
            null or "" or "auto" => GemmKernel.Auto,
            "tiled" => GemmKernel.Tiled,
            "blocked" => GemmKernel.Blocked,
            var v => throw new ArgumentException($"STAX_VULKAN_GEMM={v}: expected tiled, blocked or auto"),
        });
    static readonly Lazy<GemmTile?> EnvGemmTile = new(() =>
        Environment.GetEnvironmentVariable("STAX_VULKAN_GEMM_TILE") is { Length: > 0 } v
            ? GemmTile.Parse(v.Trim(), "STAX_VULKAN_GEMM_TILE") : null);
    static readonly Lazy<int> EnvGemmSlices = new(() =>
        Environment.GetEnvironmentVariable("STAX_VULKAN_GEMM_SPLITK") is { Length: > 0 } v
            ? int.TryParse(v.Trim(), System.Globalization.CultureInfo.InvariantCulture, out int s) && s >= 0
                ? s : throw new ArgumentException($"STAX_VULKAN_GEMM_SPLITK={v}: expected a slice count (0: by size)")
            : 0);

    /// <summary>The GEMM kernel matrix products use on this device now (overrides, then the device rule).</summary>
    internal GemmKernel GemmKernelInUse()
    {
        var k = GemmKernelOverride != GemmKernel.Auto ? GemmKernelOverride : EnvGemmKernel.Value;
        return k != GemmKernel.Auto ? k : GemmTiling.Kernel(Capabilities);
    }

    /// <summary>
    /// Records C[b] = A[b]·B[b] for b in [0, batch): C is dense [batch, m, n]; A is read as
    /// [batch, m, k] and B as [batch, k, n] through <paramref name="av"/> and <paramref name="bv"/>.
    /// </summary>
    internal void Gemm(VulkanBuffer c, VulkanBuffer a, MatrixView av, VulkanBuffer b, MatrixView bv, long batch, long m, long n, long k)
    {
        if (batch * m * n == 0) return;
        if (c.DType is not (DType.Float32 or DType.Int32))
            throw DTypeNotSupported("dot_general", c.DType);
        if (k == 0)
        {
            long serial = Stream.Fill(Bind(c), (ulong)(c.Length * 4), 0);
            c.LastUse = serial;
            return;
        }
        if (GemmKernelInUse() == GemmKernel.Tiled)
        {
            GemmTiled(c, a, av, b, bv, batch, m, n, k);
            return;
        }
        string shader = c.DType == DType.Float32 ? "gemm_f32" : "gemm_i32";
        // Aligned 4-wide B/C rows when n % 4 == 0 and B's columns are contiguous (offsets in 4s).
        bool vec4 = UseVec4Gemm && n % 4 == 0 && bv.Col == 1 && bv.Row % 4 == 0 && bv.Batch % 4 == 0 && bv.Off % 4 == 0;
        var spec = new[] { vec4 ? 1 : 0, 0, 1, 0, 1 };
        uint gx = (uint)((n + 63) / 64), gy = (uint)((m + 63) / 64);
        if (gx > 65535 || gy > 65535)
            throw new NotSupportedException($"dot_general: a {m}x{n} output is too large for one Vulkan dispatch grid");
        for (long k0 = 0; k0 < k; k0 += GemmKChunk)
        {
            int kc = (int)Math.Min(GemmKChunk, k - k0);
            for (long b0 = 0; b0 < batch; b0 += 65535)
            {
                uint gz = (uint)Math.Min(65535, batch - b0);
                int[] push =
                {
                    checked((int)m), checked((int)n), kc, checked((int)(av.Off + k0 * av.Col)), checked((int)av.Batch), checked((int)av.Row), checked((int)av.Col),
                    checked((int)(bv.Off + k0 * bv.Row)), checked((int)bv.Batch), checked((int)bv.Row), checked((int)bv.Col), checked((int)(m * n)), k0 > 0 ? 1 : 0, (int)b0, 0, 0,
                };
                // Binding 3 (convolution geometry) is unused by the matrix form.
                Run(shader, spec, new VulkanBuffer?[] { c, a, b, null }, push, gx, gy, gz);
            }
        }
    }

    /// <summary>The tiled GEMM's plan for a product: tile shape (overrides, else <see cref="GemmTiling.Choose"/>),
    /// split-K slices per pass and the K of a slice (whole tile steps, no slice empty).</summary>
    internal (GemmTile Tile, int Slices, long SliceK) TiledPlan(long batch, long m, long n, long k)
    {
        var caps = Capabilities;
        var tile = GemmTileOverride ?? EnvGemmTile.Value ?? GemmTiling.Choose(caps, batch, m, n);
        var limits = caps with { MaxComputeSharedMemorySize = caps.MaxComputeSharedMemorySize + (uint)SharedMemoryAllowance };
        if (!tile.Fits(limits))
            throw new NotSupportedException($"dot_general: GEMM tile {tile} needs {tile.Invocations} invocations and "
                                            + $"{tile.SharedBytes} bytes of shared memory; this device has "
                                            + $"{caps.MaxComputeWorkGroupInvocations} and {caps.MaxComputeSharedMemorySize}");
        long kp = Math.Min(k, TiledStepsPerPass * tile.BK);
        int slices = GemmSlicesOverride > 0 ? GemmSlicesOverride : EnvGemmSlices.Value;
        if (slices == 0) slices = GemmTiling.Slices(tile, batch, m, n, kp);
        // The partial products must fit one storage buffer.
        long room = (long)(caps.MaxStorageBufferRange / 4) / Math.Max(1, batch * m * n);
        long steps = (kp + tile.BK - 1) / tile.BK;
        long want = Math.Clamp(slices, 1, Math.Max(1, Math.Min(room, steps)));
        long sliceK = (steps + want - 1) / want * tile.BK;
        return (tile, (int)((kp + sliceK - 1) / sliceK), sliceK);
    }

    /// <summary>What runs a [batch] m x n x k product now, e.g. <c>tiled 128x128x16/8x8, 1 slice</c> (for benchmarks).</summary>
    internal string GemmChoice(long batch, long m, long n, long k)
    {
        if (GemmKernelInUse() == GemmKernel.Blocked) return "blocked";
        var (tile, slices, _) = TiledPlan(batch, m, n, k);
        return $"tiled {tile}, {slices} slice{(slices == 1 ? "" : "s")}";
    }

    /// <summary>
    /// Specialization constants of shaders/gemm_tiled.glsl for a tile and operand views (ids 0..10, then
    /// the convolution mode, whose geometry flags the caller appends). Global loads go along k when A's
    /// rows (B's columns) are contiguous in k, else along m (n); they are aligned 4-vectors when that axis
    /// has unit stride, its extent is a multiple of 4 and every offset is too. The im2col operand of a
    /// convolution (<paramref name="conv"/> 1: B, 2: A) is read with scalar loads along positions.
    /// </summary>
    static int[] TiledSpec(GemmTile tile, MatrixView av, MatrixView bv, long m, long n, long k, int conv)
    {
        static bool Aligned(MatrixView v, long other) => v.Off % 4 == 0 && v.Batch % 4 == 0 && other % 4 == 0;
        bool aKFast = conv != 2 && !(av.Row == 1 && av.Col != 1), bKFast = conv != 1 && bv.Row == 1 && bv.Col != 1;
        bool aVec = conv != 2
            && (aKFast ? av.Col == 1 && k % 4 == 0 && Aligned(av, av.Row) : av.Row == 1 && m % 4 == 0 && Aligned(av, av.Col));
        bool bVec = conv != 1
            && (bKFast ? bv.Row == 1 && k % 4 == 0 && Aligned(bv, bv.Col) : bv.Col == 1 && n % 4 == 0 && Aligned(bv, bv.Row));
        bool cVec = conv == 0 && n % 4 == 0;
        return new[]
        {
            tile.Invocations, tile.BM, tile.BN, tile.BK, tile.TM, tile.TN,
            aVec ? 1 : 0, aKFast ? 1 : 0, bVec ? 1 : 0, bKFast ? 1 : 0, cVec ? 1 : 0, conv,
        };
    }

    /// <summary>
    /// <see cref="Gemm"/> with the shared-memory tiled kernel (shaders/gemm_tiled.glsl): the tile shape
    /// and split-K slices come from the overrides or <see cref="GemmTiling"/>. With more than one slice,
    /// each slice's partial product goes to a scratch buffer and a second dispatch sums them in order.
    /// </summary>
    void GemmTiled(VulkanBuffer c, VulkanBuffer a, MatrixView av, VulkanBuffer b, MatrixView bv,
                   long batch, long m, long n, long k)
    {
        var (tile, slices, sliceK) = TiledPlan(batch, m, n, k);
        long gx = (n + tile.BN - 1) / tile.BN, gy = (m + tile.BM - 1) / tile.BM;
        if (gx > 65535 || gy > 65535)
            throw new NotSupportedException($"dot_general: a {m}x{n} output is too large for one Vulkan dispatch grid");
        long passK = TiledStepsPerPass * tile.BK;
        long batchChunk = Math.Min(batch, 65535 / slices);
        long mn = m * n;
        // The partial products: [slice][batch of the chunk][m][n].
        VulkanBuffer? scratch = slices > 1 ? Allocate(c.DType, slices * batchChunk * mn) : null;

        var spec = TiledSpec(tile, av, bv, m, n, k, conv: 0);
        string suffix = c.DType == DType.Float32 ? "f32" : "i32";
        for (long k0 = 0; k0 < k; k0 += passK)
        {
            int kc = (int)Math.Min(passK, k - k0);
            bool accumulate = k0 > 0;
            for (long b0 = 0; b0 < batch; b0 += batchChunk)
            {
                long nb = Math.Min(batchChunk, batch - b0);
                int[] push =
                {
                    checked((int)m), checked((int)n), kc, checked((int)(av.Off + k0 * av.Col)), checked((int)av.Batch),
                    checked((int)av.Row), checked((int)av.Col), checked((int)(bv.Off + k0 * bv.Row)), checked((int)bv.Batch),
                    checked((int)bv.Row), checked((int)bv.Col), checked((int)mn), accumulate ? 1 : 0, (int)b0,
                    (int)sliceK, slices, checked((int)(nb * mn)), scratch == null ? checked((int)(b0 * mn)) : 0, 0, 0,
                };
                Interlocked.Increment(ref TiledGemmDispatches);
                // Binding 3 (convolution geometry) is unused by the matrix form.
                Run("gemm_tiled_" + suffix, spec, new VulkanBuffer?[] { scratch ?? c, a, b, null }, push,
                    (uint)gx, (uint)gy, (uint)(nb * slices));
                if (scratch != null) SumSlices(c, scratch, nb * mn, slices, accumulate, b0 * mn);
            }
        }
        scratch?.Dispose();
    }

    /// <summary>
    /// The second pass of a split-K product: <paramref name="elements"/> outputs of <paramref name="c"/> from
    /// <paramref name="offset"/> on get the sum of the <paramref name="slices"/> partial blocks of
    /// <paramref name="scratch"/> (stride <paramref name="elements"/>), added in order (onto c's values when
    /// <paramref name="accumulate"/>).
    /// </summary>
    void SumSlices(VulkanBuffer c, VulkanBuffer scratch, long elements, int slices, bool accumulate, long offset)
    {
        int n = checked((int)elements);
        int[] push = { n, slices, n, accumulate ? 1 : 0, checked((int)offset) };
        string shader = c.DType == DType.Float32 ? "gemm_splitk_f32" : "gemm_splitk_i32";
        Run(shader, Array.Empty<int>(), new VulkanBuffer?[] { c, scratch }, push, n);
    }

    /// <summary>
    /// Views an operand as [batch, rows, cols] where each of the three groups lists operand dims in
    /// order. When every group's dims are laid out contiguously (in that order) the buffer is read
    /// in place through strides; otherwise it is first transposed into [groups...] order.
    /// </summary>
    MatrixView GroupView(VulkanBuffer x, Shape shape, int[][] groups, string op, out VulkanBuffer buffer, out bool owned)
    {
        var st = Strides(shape);
        long[] gstride = new long[3];
        bool ok = true;
        for (int g = 0; g < 3 && ok; g++)
        {
            long expect = -1;
            gstride[g] = 0;
            for (int i = groups[g].Length - 1; i >= 0; i--)
            {
                int d = groups[g][i];
                if (shape[d] == 1) continue;
                if (expect >= 0 && st[d] != expect) { ok = false; break; }
                if (expect < 0) gstride[g] = st[d];
                expect = st[d] * shape[d];
            }
        }
        if (ok)
        {
            buffer = x; owned = false;
            return new MatrixView(0, gstride[0], gstride[1], gstride[2]);
        }
        var perm = groups.SelectMany(g => g).ToArray();
        var dims = perm.Select(d => (long)shape[d]).ToArray();
        buffer = Allocate(x.DType, x.Length);
        owned = true;
        StridedCopy(buffer, x, dims, perm.Select(d => st[d]).ToArray(), 0, StridesOf(dims), 0, op);
        long rows = groups[1].Aggregate(1L, (a, d) => a * shape[d]), cols = groups[2].Aggregate(1L, (a, d) => a * shape[d]);
        return new MatrixView(0, rows * cols, cols, 1);
    }

    void DotGeneral(DotGeneralParams p, VulkanBuffer lhs, VulkanBuffer rhs, Shape ls, Shape rs, VulkanBuffer output)
    {
        if (output.Length == 0) return;
        var work = output.DType;
        bool convL = lhs.DType != work, convR = rhs.DType != work;
        var l = convL ? Convert(lhs, work) : lhs;
        var r = convR ? Convert(rhs, work) : rhs;
        int[] lFree = Enumerable.Range(0, ls.Rank).Where(d => !p.LhsBatch.Contains(d) && !p.LhsContracting.Contains(d)).ToArray();
        int[] rFree = Enumerable.Range(0, rs.Rank).Where(d => !p.RhsBatch.Contains(d) && !p.RhsContracting.Contains(d)).ToArray();
        long batch = p.LhsBatch.ToArray().Aggregate(1L, (a, d) => a * ls[d]);
        long m = lFree.Aggregate(1L, (a, d) => a * ls[d]);
        long n = rFree.Aggregate(1L, (a, d) => a * rs[d]);
        long k = p.LhsContracting.ToArray().Aggregate(1L, (a, d) => a * ls[d]);
        var av = GroupView(l, ls, new[] { p.LhsBatch.ToArray(), lFree, p.LhsContracting.ToArray() }, "dot_general", out var la, out bool ownA);
        var bv = GroupView(r, rs, new[] { p.RhsBatch.ToArray(), p.RhsContracting.ToArray(), rFree }, "dot_general", out var rb, out bool ownB);
        Gemm(output, la, av, rb, bv, batch, m, n, k);
        if (ownA) la.Dispose();
        if (ownB) rb.Dispose();
        if (convL) l.Dispose();
        if (convR) r.Dispose();
    }

    static partial void RegisterDot()
    {
        Kernels[Prims.DotGeneral] = (b, p, ins, outs, it, ot) => b.DotGeneral((DotGeneralParams)p, ins[0], ins[1], it[0].Shape, it[1].Shape, outs[0]);
    }
}
