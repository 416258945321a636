// Shared-memory tiled batched matrix product for GPUs: C[b] = A[b] . B[b] (or C += when v[12] != 0).
// A workgroup of WG invocations computes a BM x BN tile of C, stepping through K by BK: each step's
// A (BM x BK) and B (BK x BN) tiles are staged in shared memory, both stored k-major (A transposed)
// so the inner product reads 4-vectors along m and n. Double buffered: the global loads of step
// t + 1 go to registers while step t is computed from shared memory, then land in the other
// buffer; one barrier per step. Each invocation owns a TM x TN register tile made of 4x4 blocks
// spaced a quarter-tile apart, so a subgroup's shared reads are contiguous (no bank conflicts).
// Operands are read through strides (transposed operands need no copy); out-of-range elements
// read as 0 and out-of-range outputs are not stored. Split-K: z enumerates (batch, K slice); with
// more than one slice each slice writes its partial product to its own dense [batch, m, n] block
// of binding 0 (a scratch buffer) and gemm_splitk*.comp sums the slices in a fixed order.
// Implicit-GEMM convolution (CONV != 0, see gemm.glsl and gemm_conv.glsl): one operand is the
// im2col matrix, each element read straight from the convolution input with scalar loads; the
// output positions of an invocation's load slots are computed once, the taps per step; C is
// written into the output layout (with split-K, slice s's partial result at s times the output's
// length: pc.v[16]).
// The including file defines T (scalar) and TV (4-vector).
#extension GL_EXT_control_flow_attributes : enable

// Workgroup size and tile shape (chosen per device by the host, see GemmTiling.cs):
// WG = (BM / TM) * (BN / TN); TM, TN, BM, BN, BK multiples of 4; BM * BK and BK * BN multiples of 4 * WG.
layout(constant_id = 0) const int WG = 256;
layout(constant_id = 1) const int BM = 128;
layout(constant_id = 2) const int BN = 128;
layout(constant_id = 3) const int BK = 16;
layout(constant_id = 4) const int TM = 8;
layout(constant_id = 5) const int TN = 8;
// Global loads per operand: *_VEC 1 reads aligned 4-vectors along the contiguous axis; *_KFAST 1
// when that axis is k (a row-major A, a column-major B), 0 when it is m (A) or n (B).
layout(constant_id = 6) const int A_VEC = 0;
layout(constant_id = 7) const int A_KFAST = 1;
layout(constant_id = 8) const int B_VEC = 0;
layout(constant_id = 9) const int B_KFAST = 0;
// C rows are written as aligned 4-vectors (n % 4 == 0, every block offset a multiple of 4).
layout(constant_id = 10) const int C_VEC = 0;
// Convolution mode and geometry flags (as in gemm.glsl): 1 B is the im2col operand, 2 A is.
layout(constant_id = 11) const int CONV = 0;
layout(constant_id = 12) const int CONV_S = 1;
layout(constant_id = 13) const int CONV_LDIL = 0;
layout(constant_id = 14) const int CONV_CHECK = 1;
layout(constant_id = 15) const int CONV_KORD = 0;
layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) buffer OutC { T c[]; };
layout(std430, binding = 0) buffer OutC4 { TV c4[]; };
layout(std430, binding = 1) readonly buffer InA { T a[]; };
layout(std430, binding = 1) readonly buffer InA4 { TV a4[]; };
layout(std430, binding = 2) readonly buffer InB { T b[]; };
layout(std430, binding = 2) readonly buffer InB4 { TV b4[]; };

// 0 M, 1 N, 2 K (this pass), 3 aOff, 4 aBatch, 5 aM, 6 aK, 7 bOff, 8 bBatch, 9 bK, 10 bN,
// 11 cBatch, 12 accumulate, 13 batchBase, 14 K per slice (a multiple of BK), 15 slices,
// 16 offset between slices' partial blocks in binding 0, 17 offset in binding 0 of batch batchBase;
// CONV: 18 first k of this pass, 19 first output position of this dispatch (11 is the output
// offset per group).
layout(push_constant) uniform Push { int v[20]; } pc;

#include "gemm_conv.glsl"

// Shared tiles, k-major, rows padded by one 4-vector: [buffer][k][x / 4].
const int SA = BM / 4 + 1, SB = BN / 4 + 1;
shared TV sA[2 * BK * SA];
shared TV sB[2 * BK * SB];

// Global 4-vector groups each invocation loads per operand and step.
const int GA = BM * BK / (4 * WG), GB = BN * BK / (4 * WG);
// Invocations across n and m; 4x4 blocks per invocation along m and n.
const int TX = BN / TN, TY = BM / TM, QM = TM / 4, QN = TN / 4;

// This invocation's tile: rows and columns left from its origin, K left in its slice, operand bases.
int gMl, gNl, gKl, gABase, gBBase, gAM, gAK, gBK, gBN, gXg, gK0;
// Output positions of the im2col operand's load slots (their x never changes), when CONV != 0.
Pos gSlot[4 * (GA + GB)];

T load1(bool isA, int i) { return isA ? a[i] : b[i]; }
TV load4(bool isA, int i) { return isA ? a4[i] : b4[i]; }

// Tile position (x, k) of element c of group g for this invocation. Vector loads take 4 consecutive
// elements along the fast axis; scalar loads spread a group over the workgroup so that adjacent
// invocations read adjacent elements.
ivec2 slot(int g, int e, int bx, bool vec, bool kfast)
{
    int t = int(gl_LocalInvocationID.x);
    int lin = vec ? (g * WG + t) * 4 + e : (g * 4 + e) * WG + t;
    return kfast ? ivec2(lin / BK, lin % BK) : ivec2(lin % bx, lin / bx);
}

// Loads group g of an operand tile whose element (x, k) is at base + x * sx + k * sk; elements with
// x >= xl or k >= kl read 0. With vectors, a group is entirely in range or entirely out (the host
// guarantees the fast extent is a multiple of 4).
TV fetch(bool isA, int g, int base, int sx, int sk, int xl, int kl, int bx, bool vec, bool kfast)
{
    if (vec)
    {
        ivec2 p = slot(g, 0, bx, true, kfast);
        return p.x < xl && p.y < kl ? load4(isA, (base + p.x * sx + p.y * sk) >> 2) : TV(0);
    }
    TV r;
    [[unroll]] for (int e = 0; e < 4; e++)
    {
        ivec2 p = slot(g, e, bx, false, kfast);
        r[e] = p.x < xl && p.y < kl ? load1(isA, base + p.x * sx + p.y * sk) : T(0);
    }
    return r;
}

// Group g of the im2col operand (x along positions, scalar loads) at K offset kOff of the slice.
TV fetchConv(int g, int xl, int kOff, int bx)
{
    TV r;
    [[unroll]] for (int e = 0; e < 4; e++)
    {
        ivec2 p = slot(g, e, bx, false, false);
        r[e] = p.x < xl && p.y < gKl - kOff ? convLoad(gSlot[g * 4 + e], tapAt(gK0 + kOff + p.y)) : T(0);
    }
    return r;
}

TV loadA(int g, int kOff)
{
    if (CONV == 2) return fetchConv(g, gMl, kOff, BM);
    return fetch(true, g, gABase + kOff * gAK, gAM, gAK, gMl, gKl - kOff, BM, A_VEC != 0, A_KFAST != 0);
}

TV loadB(int g, int kOff)
{
    if (CONV == 1) return fetchConv(g, gNl, kOff, BN);
    return fetch(false, g, gBBase + kOff * gBK, gBN, gBK, gNl, gKl - kOff, BN, B_VEC != 0, B_KFAST != 0);
}

// Index in binding 0 of output (m, n) of this dispatch, cb the block's offset.
int outIndex(int cb, int m, int n)
{
    if (CONV == 1) return cb + m * gOC + position(pc.v[19] + n, gXg).o;
    if (CONV == 2) return cb + position(pc.v[19] + m, gXg).o + n * gOC;
    return cb + m * pc.v[1] + n;
}

// Stores group g of an operand tile (as loaded by fetch) into shared buffer buf, k-major.
void stash(bool isA, int buf, int g, TV r)
{
    bool vec = isA ? A_VEC != 0 : B_VEC != 0, kfast = isA ? A_KFAST != 0 : B_KFAST != 0;
    int bx = isA ? BM : BN, stride = isA ? SA : SB;
    if (vec && !kfast)
    {
        ivec2 p = slot(g, 0, bx, true, false);
        int i = (buf * BK + p.y) * stride + (p.x >> 2);
        if (isA) sA[i] = r; else sB[i] = r;
        return;
    }
    [[unroll]] for (int e = 0; e < 4; e++)
    {
        ivec2 p = slot(g, e, bx, vec, kfast);
        int i = (buf * BK + p.y) * stride + (p.x >> 2);
        if (isA) sA[i][p.x & 3] = r[e]; else sB[i][p.x & 3] = r[e];
    }
}

void main()
{
    int M = pc.v[0], N = pc.v[1], K = pc.v[2];
    int slices = pc.v[15];
    int z = int(gl_WorkGroupID.z);
    int slice = z % slices, bat = z / slices + pc.v[13];
    int m0 = int(gl_WorkGroupID.y) * BM, n0 = int(gl_WorkGroupID.x) * BN;
    int kBegin = slice * pc.v[14];
    int kEnd = min(K, kBegin + pc.v[14]);
    gAM = pc.v[5]; gAK = pc.v[6]; gBK = pc.v[9]; gBN = pc.v[10];
    gABase = pc.v[3] + bat * pc.v[4] + m0 * gAM + kBegin * gAK;
    gBBase = pc.v[7] + bat * pc.v[8] + n0 * gBN + kBegin * gBK;
    gMl = M - m0; gNl = N - n0; gKl = kEnd - kBegin;
    int ml = gMl, nl = gNl;
    int t = int(gl_LocalInvocationID.x);
    int tx = t % TX, ty = t / TX;
    if (CONV != 0)
    {
        loadGeometry();
        gXg = bat * geo[8];
        gK0 = pc.v[18] + kBegin;
        int gi = CONV == 1 ? GB : GA, bx = CONV == 1 ? BN : BM, x0 = pc.v[19] + (CONV == 1 ? n0 : m0);
        [[unroll]] for (int g = 0; g < gi; g++)
            [[unroll]] for (int e = 0; e < 4; e++) gSlot[g * 4 + e] = position(x0 + slot(g, e, bx, false, false).x, gXg);
    }

    TV acc[TM * QN];
    [[unroll]] for (int i = 0; i < TM * QN; i++) acc[i] = TV(0);
    TV ra[GA];
    TV rb[GB];

    int steps = (gKl + BK - 1) / BK;
    [[unroll]] for (int g = 0; g < GA; g++) ra[g] = loadA(g, 0);
    [[unroll]] for (int g = 0; g < GB; g++) rb[g] = loadB(g, 0);
    [[unroll]] for (int g = 0; g < GA; g++) stash(true, 0, g, ra[g]);
    [[unroll]] for (int g = 0; g < GB; g++) stash(false, 0, g, rb[g]);
    barrier();
    for (int s = 0; s < steps; s++)
    {
        int buf = s & 1;
        bool more = s + 1 < steps;
        if (more)
        {
            int k1 = (s + 1) * BK;
            [[unroll]] for (int g = 0; g < GA; g++) ra[g] = loadA(g, k1);
            [[unroll]] for (int g = 0; g < GB; g++) rb[g] = loadB(g, k1);
        }
        [[unroll]] for (int kk = 0; kk < BK; kk++)
        {
            int ra0 = (buf * BK + kk) * SA + ty, rb0 = (buf * BK + kk) * SB + tx;
            TV x[QM];
            TV y[QN];
            [[unroll]] for (int i = 0; i < QM; i++) x[i] = sA[ra0 + i * TY];
            [[unroll]] for (int j = 0; j < QN; j++) y[j] = sB[rb0 + j * TX];
            [[unroll]] for (int i = 0; i < QM; i++)
                [[unroll]] for (int r = 0; r < 4; r++)
                    [[unroll]] for (int j = 0; j < QN; j++)
                        acc[(i * 4 + r) * QN + j] += x[i][r] * y[j];
        }
        if (more)
        {
            [[unroll]] for (int g = 0; g < GA; g++) stash(true, buf ^ 1, g, ra[g]);
            [[unroll]] for (int g = 0; g < GB; g++) stash(false, buf ^ 1, g, rb[g]);
        }
        barrier();
    }

    // Partial products of a split go to their own block, never accumulated.
    bool accum = pc.v[12] != 0 && slices == 1;
    int cb = pc.v[17] + (z / slices) * pc.v[11] + slice * pc.v[16];
    // No continue or break in these loops: optimizers unroll them only without, and an accumulator
    // indexed by a loop variable that was not unrolled would leave registers for memory.
    [[unroll]] for (int i = 0; i < QM; i++)
        [[unroll]] for (int r = 0; r < 4; r++)
            [[unroll]] for (int j = 0; j < QN; j++)
            {
                int m = (i * TY + ty) * 4 + r, n = (j * TX + tx) * 4;
                TV s = acc[(i * 4 + r) * QN + j];
                if (m < ml && C_VEC != 0 && CONV == 0 && n < nl)
                {
                    int o = outIndex(cb, m0 + m, n0 + n) >> 2;
                    c4[o] = accum ? c4[o] + s : s;
                }
                [[unroll]] for (int e = 0; e < 4; e++)
                    if (m < ml && (C_VEC == 0 || CONV != 0) && n + e < nl)
                    {
                        int o = outIndex(cb, m0 + m, n0 + n + e);
                        c[o] = accum ? c[o] + s[e] : s[e];
                    }
            }
}
