// Register-blocked batched matrix product C[b] = A[b] . B[b] (or C += when v[12] != 0).
// Each invocation computes a 4x4 block of C with 16 accumulators; a 16x16 workgroup covers a
// 64x64 tile; z is the batch. A and B are read through strides, so transposed operands need no
// copy. Out-of-range rows/columns read clamped (valid) addresses and are not stored. The
// including file defines T (scalar), TV (4-vector) and the buffer element type.
// (Shared-memory tiling was slower on lavapipe, a CPU; vec4 register blocking was fastest.)
//
// Implicit-GEMM convolution (CONV != 0): one operand is the im2col matrix of a convolution,
// never stored: each element is read straight from the convolution input (any layout, through
// its strides) at the index computed from (k, output position), with padding, lhs-dilation
// holes and cropped taps reading 0. The batch z is the feature or batch group. The other operand
// is the weights matrix (strided view), and C is written straight into the output layout.
//   CONV 1: B is implicit, [K, positions]; A is the weights [Og, K]; C[o, position].
//   CONV 2: A is implicit, [positions, K]; B is the weights [K, Og]; C[position, o].
// A position j (0 <= j < images * P) is image j / P, output spatial index j % P (row-major).
// k enumerates (input channel c, kernel tap) with the tap innermost (CONV_KORD 0) or the channel
// innermost (CONV_KORD 1), matching how the weights are laid out.
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

layout(std430, binding = 0) buffer OutC { T c[]; };
layout(std430, binding = 1) readonly buffer InA { T a[]; };
layout(std430, binding = 2) readonly buffer InB { T b[]; };
layout(std430, binding = 2) readonly buffer InB4 { TV b4[]; };
layout(std430, binding = 0) buffer OutC4 { TV c4[]; };

// VEC4: B rows and C rows are read/written as aligned 4-vectors (n % 4 == 0, unit column stride).
layout(constant_id = 0) const int VEC4 = 0;
layout(constant_id = 1) const int CONV = 0;
// Spatial rank (1..3), whether some lhs dilation exceeds 1, whether some tap can fall outside the input.
layout(constant_id = 2) const int CONV_S = 1;
layout(constant_id = 3) const int CONV_LDIL = 0;
layout(constant_id = 4) const int CONV_CHECK = 1;
// k order: 0 channel outer / taps inner, 1 taps outer / channel inner.
layout(constant_id = 5) const int CONV_KORD = 0;

// M, N, K, aOff, aBatch, aM, aK, bOff, bBatch, bK, bN, cBatch, accumulate, batchBase,
// then for CONV: first k of this pass, first output position of this dispatch.
// In CONV mode cBatch is the output offset per group; bOff/bBatch/bK/bN (CONV 1) or
// aOff/aBatch/aM/aK (CONV 2) are unused.
layout(push_constant) uniform Push { int v[16]; } pc;

#include "gemm_conv.glsl"

void main()
{
    int M = pc.v[0], N = pc.v[1], K = pc.v[2];
    // Rows m0..m0+3 (uniform across a subgroup's x lanes, so A loads broadcast); columns
    // nb + 16j (adjacent lanes read adjacent B and write adjacent C elements).
    int lx = int(gl_LocalInvocationID.x);
    if (CONV == 1)
    {
        // Rows: output features; columns: output positions.
        int nb = int(gl_WorkGroupID.x) * 64 + lx;
        int m0 = (int(gl_WorkGroupID.y) * 16 + int(gl_LocalInvocationID.y)) * 4;
        int bat = int(gl_WorkGroupID.z) + pc.v[13];
        if (nb >= N || m0 >= M) return;
        loadGeometry();
        int aM = pc.v[5], aK = pc.v[6], j0 = pc.v[15];
        int abase = pc.v[3] + bat * pc.v[4], xg = bat * geo[8];
        int a0 = abase + m0 * aM, a1 = abase + min(m0 + 1, M - 1) * aM, a2 = abase + min(m0 + 2, M - 1) * aM, a3 = abase + min(m0 + 3, M - 1) * aM;
        Pos p0 = position(j0 + nb, xg), p1 = position(j0 + min(nb + 16, N - 1), xg);
        Pos p2 = position(j0 + min(nb + 32, N - 1), xg), p3 = position(j0 + min(nb + 48, N - 1), xg);
        Tap t = tapAt(pc.v[14]);
        TV acc0 = TV(0), acc1 = TV(0), acc2 = TV(0), acc3 = TV(0);
        for (int k = 0; k < K; k++)
        {
            int ak = k * aK;
            TV bv = TV(convLoad(p0, t), convLoad(p1, t), convLoad(p2, t), convLoad(p3, t));
            acc0 += a[a0 + ak] * bv;
            acc1 += a[a1 + ak] * bv;
            acc2 += a[a2 + ak] * bv;
            acc3 += a[a3 + ak] * bv;
            nextTap(t);
        }
        int cb = bat * pc.v[11];
        bool accum = pc.v[12] != 0;
        TV accs[4] = TV[4](acc0, acc1, acc2, acc3);
        int po[4] = int[4](p0.o, p1.o, p2.o, p3.o);
        [[unroll]] for (int i = 0; i < 4; i++)
        {
            if (m0 + i >= M) break;
            int row = cb + (m0 + i) * gOC;
            [[unroll]] for (int j = 0; j < 4; j++)
                if (nb + 16 * j < N) c[row + po[j]] = accum ? c[row + po[j]] + accs[i][j] : accs[i][j];
        }
        return;
    }
    if (CONV == 2)
    {
        // Rows: output positions; columns: output features.
        int m0 = (int(gl_WorkGroupID.y) * 16 + int(gl_LocalInvocationID.y)) * 4;
        int bat = int(gl_WorkGroupID.z) + pc.v[13];
        int n0 = VEC4 != 0 ? (int(gl_WorkGroupID.x) * 16 + lx) * 4 : int(gl_WorkGroupID.x) * 64 + lx;
        if (n0 >= N || m0 >= M) return;
        loadGeometry();
        int j0 = pc.v[15], xg = bat * geo[8];
        Pos q0 = position(j0 + m0, xg), q1 = position(j0 + min(m0 + 1, M - 1), xg);
        Pos q2 = position(j0 + min(m0 + 2, M - 1), xg), q3 = position(j0 + min(m0 + 3, M - 1), xg);
        Tap t = tapAt(pc.v[14]);
        int bbase = pc.v[7] + bat * pc.v[8], bK = pc.v[9], bN = pc.v[10];
        int cb = bat * pc.v[11];
        bool accum = pc.v[12] != 0;
        int qo[4] = int[4](q0.o, q1.o, q2.o, q3.o);
        if (VEC4 != 0)
        {
            // Weights rows and output rows are aligned 4-vectors (unit feature strides).
            int bb4 = (bbase + n0) / 4, bK4 = bK / 4;
            TV s0 = TV(0), s1 = TV(0), s2 = TV(0), s3 = TV(0);
            for (int k = 0; k < K; k++)
            {
                TV bv = b4[bb4 + k * bK4];
                s0 += convLoad(q0, t) * bv;
                s1 += convLoad(q1, t) * bv;
                s2 += convLoad(q2, t) * bv;
                s3 += convLoad(q3, t) * bv;
                nextTap(t);
            }
            TV ss[4] = TV[4](s0, s1, s2, s3);
            [[unroll]] for (int i = 0; i < 4; i++)
            {
                if (m0 + i >= M) break;
                int r4 = (cb + qo[i] + n0) / 4;
                c4[r4] = accum ? c4[r4] + ss[i] : ss[i];
            }
            return;
        }
        int b0 = bbase + n0 * bN, b1 = bbase + min(n0 + 16, N - 1) * bN, b2 = bbase + min(n0 + 32, N - 1) * bN, b3 = bbase + min(n0 + 48, N - 1) * bN;
        TV acc0 = TV(0), acc1 = TV(0), acc2 = TV(0), acc3 = TV(0);
        for (int k = 0; k < K; k++)
        {
            int bk = k * bK;
            TV bv = TV(b[b0 + bk], b[b1 + bk], b[b2 + bk], b[b3 + bk]);
            acc0 += convLoad(q0, t) * bv;
            acc1 += convLoad(q1, t) * bv;
            acc2 += convLoad(q2, t) * bv;
            acc3 += convLoad(q3, t) * bv;
            nextTap(t);
        }
        TV accs[4] = TV[4](acc0, acc1, acc2, acc3);
        [[unroll]] for (int i = 0; i < 4; i++)
        {
            if (m0 + i >= M) break;
            [[unroll]] for (int j = 0; j < 4; j++)
            {
                int ci = cb + qo[i] + (n0 + 16 * j) * gOC;
                if (n0 + 16 * j < N) c[ci] = accum ? c[ci] + accs[i][j] : accs[i][j];
            }
        }
        return;
    }
    if (VEC4 != 0)
    {
        int n0 = (int(gl_WorkGroupID.x) * 16 + lx) * 4;
        int m0v = (int(gl_WorkGroupID.y) * 16 + int(gl_LocalInvocationID.y)) * 4;
        int batv = int(gl_WorkGroupID.z) + pc.v[13];
        if (n0 >= N || m0v >= M) return;
        int aMv = pc.v[5], aKv = pc.v[6], bKv = pc.v[9] / 4;
        int abv = pc.v[3] + batv * pc.v[4];
        int bb4 = (pc.v[7] + batv * pc.v[8] + n0) / 4;
        int r0 = abv + m0v * aMv, r1 = abv + min(m0v + 1, M - 1) * aMv, r2 = abv + min(m0v + 2, M - 1) * aMv, r3 = abv + min(m0v + 3, M - 1) * aMv;
        TV s0 = TV(0), s1 = TV(0), s2 = TV(0), s3 = TV(0);
        for (int k = 0; k < K; k++)
        {
            TV bv = b4[bb4 + k * bKv];
            int ak = k * aKv;
            s0 += a[r0 + ak] * bv;
            s1 += a[r1 + ak] * bv;
            s2 += a[r2 + ak] * bv;
            s3 += a[r3 + ak] * bv;
        }
        int row4 = (batv * pc.v[11] + m0v * N + n0) / 4, step4 = N / 4;
        bool acc4 = pc.v[12] != 0;
        c4[row4] = acc4 ? c4[row4] + s0 : s0;
        if (m0v + 1 < M) c4[row4 + step4] = acc4 ? c4[row4 + step4] + s1 : s1;
        if (m0v + 2 < M) c4[row4 + 2 * step4] = acc4 ? c4[row4 + 2 * step4] + s2 : s2;
        if (m0v + 3 < M) c4[row4 + 3 * step4] = acc4 ? c4[row4 + 3 * step4] + s3 : s3;
        return;
    }
    int nb = int(gl_WorkGroupID.x) * 64 + lx;
    int m0 = (int(gl_WorkGroupID.y) * 16 + int(gl_LocalInvocationID.y)) * 4;
    int bat = int(gl_WorkGroupID.z) + pc.v[13];
    if (nb >= N || m0 >= M) return;
    int aM = pc.v[5], aK = pc.v[6], bK = pc.v[9], bN = pc.v[10];
    int abase = pc.v[3] + bat * pc.v[4], bbase = pc.v[7] + bat * pc.v[8];
    int a0 = abase + m0 * aM, a1 = abase + min(m0 + 1, M - 1) * aM, a2 = abase + min(m0 + 2, M - 1) * aM, a3 = abase + min(m0 + 3, M - 1) * aM;
    int b0 = bbase + nb * bN, b1 = bbase + min(nb + 16, N - 1) * bN, b2 = bbase + min(nb + 32, N - 1) * bN, b3 = bbase + min(nb + 48, N - 1) * bN;
    TV acc0 = TV(0), acc1 = TV(0), acc2 = TV(0), acc3 = TV(0);
    for (int k = 0; k < K; k++)
    {
        int ak = k * aK, bk = k * bK;
        TV bv = TV(b[b0 + bk], b[b1 + bk], b[b2 + bk], b[b3 + bk]);
        acc0 += a[a0 + ak] * bv;
        acc1 += a[a1 + ak] * bv;
        acc2 += a[a2 + ak] * bv;
        acc3 += a[a3 + ak] * bv;
    }
    int cb = bat * pc.v[11];
    bool accum = pc.v[12] != 0;
    TV accs[4] = TV[4](acc0, acc1, acc2, acc3);
    [[unroll]] for (int i = 0; i < 4; i++)
    {
        if (m0 + i >= M) break;
        int row = cb + (m0 + i) * N + nb;
        [[unroll]] for (int j = 0; j < 4; j++)
            if (nb + 16 * j < N) c[row + 16 * j] = accum ? c[row + 16 * j] + accs[i][j] : accs[i][j];
    }
}
