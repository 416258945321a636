#version 450
// im2col for conv_general_dilated: writes the column matrix [groups, Cg*KS, nc*P] of a chunk of
// nc output images (starting at image n0) from the canonical [N, C, spatial...] lhs, so the
// convolution becomes a batched GEMM with the [groups, Og, Cg*KS] weights. Padding, base (lhs)
// dilation holes and cropped positions read 0. Feature groups take channel block g; batch
// groups take image block g. One invocation per column element (32-bit elements).
// Push: v[0] total, v[1] S (spatial rank <= 3), v[2] n0, v[3] P (output positions per image),
// v[4] KS (kernel positions), v[5] Cg, v[6] C (lhs channels), v[7] images per batch group,
// v[8] 1 for batch groups, v[9] columns per group row (nc*P), v[10] K = Cg*KS, then per spatial
// dim d at 11 + 6d: input size, output size, kernel size, stride, low padding, lhs dil | rhs dil << 16.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Out { uint col[]; };
layout(std430, binding = 1) readonly buffer In { uint x[]; };

layout(push_constant) uniform Push { int v[29]; } pc;

int D(int d, int f) { return pc.v[11 + 6 * d + f]; }

void main()
{
    uint id = linear_id();
    if (id >= uint(pc.v[0])) return;
    int S = pc.v[1], P = pc.v[3], KS = pc.v[4], Cg = pc.v[5], C = pc.v[6], nimg = pc.v[7];
    int cols = pc.v[9], K = pc.v[10];
    int j = int(id % uint(cols));
    int rowAll = int(id / uint(cols));
    int kk = rowAll % K, g = rowAll / K;
    int c = kk / KS, kpos = kk % KS;
    int n = pc.v[2] + j / P, p = j % P;
    int img = pc.v[8] != 0 ? g * nimg + n : n;
    int ch = pc.v[8] != 0 ? c : g * Cg + c;
    int off = img * C + ch;
    int kr = kpos, pr = p;
    int pos[3] = int[3](0, 0, 0);
    for (int d = S - 1; d >= 0; d--)
    {
        int kd = kr % D(d, 2); kr /= D(d, 2);
        int od = pr % D(d, 1); pr /= D(d, 1);
        int dil = D(d, 5);
        int q = od * D(d, 3) + kd * (dil >> 16) - D(d, 4);
        int ld = dil & 0xFFFF;
        if (q < 0 || q % ld != 0 || q / ld >= D(d, 0)) { col[id] = 0u; return; }
        pos[d] = q / ld;
    }
    for (int d = 0; d < S; d++) off = off * D(d, 0) + pos[d];
    col[id] = x[off];
}
