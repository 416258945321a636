#version 450
// Indexing with run-time indices (one invocation per output element; 32-bit elements, narrower
// dtypes are widened by the caller). Indices are int32 on the device (binding 2); the static
// layout comes in an int32 meta buffer (binding 3).
// MODE 0 gather: meta = outRank, opRank, fill mode (0 clamp, 1 fill), index vector length,
//        per output dim: size, indices stride (0 for offset dims);
//        per operand dim: size, slice size, stride, offset output dim or -1, index component or -1,
//        batching output dim or -1. push v[1] = fill bits.
// MODE 1 dynamic_slice: meta = rank, per dim: out size, operand size, operand stride; starts in binding 2.
// MODE 2 dynamic_update_slice: meta = rank, per dim: operand size, update size, update stride;
//        output is operand-shaped: update element inside the window, else operand (binding 1); update is binding 4.
#include "common.glsl"

layout(constant_id = 0) const int MODE = 0;

layout(std430, binding = 0) writeonly buffer Out { uint o[]; };
layout(std430, binding = 1) readonly buffer X { uint x[]; };
layout(std430, binding = 2) readonly buffer Idx { int idx[]; };
layout(std430, binding = 3) readonly buffer Meta { int meta[]; };
layout(std430, binding = 4) readonly buffer Upd { uint upd[]; };

layout(push_constant) uniform Push { uint n; uint fill; } pc;

void main()
{
    uint id = linear_id();
    if (id >= pc.n) return;
    if (MODE == 0)
    {
        int outRank = meta[0], opRank = meta[1];
        bool fillMode = meta[2] != 0;
        int ob = 4, pb = 4 + 2 * outRank;
        int oidx[8];
        int rem = int(id), base = 0;
        for (int d = outRank - 1; d >= 0; d--)
        {
            int s = meta[ob + 2 * d];
            oidx[d] = rem % s;
            rem /= s;
            base += oidx[d] * meta[ob + 2 * d + 1];
        }
        int src = 0;
        for (int d = 0; d < opRank; d++)
        {
            int size = meta[pb + 6 * d], slice = meta[pb + 6 * d + 1], stride = meta[pb + 6 * d + 2];
            int offDim = meta[pb + 6 * d + 3], comp = meta[pb + 6 * d + 4], batchDim = meta[pb + 6 * d + 5];
            int start = 0;
            if (comp >= 0)
            {
                start = idx[base + comp];
                if (start < 0 || start > size - slice)
                {
                    if (fillMode) { o[id] = pc.fill; return; }
                    start = clamp(start, 0, size - slice);
                }
            }
            else if (batchDim >= 0) start = oidx[batchDim];
            int pos = start + (offDim >= 0 ? oidx[offDim] : 0);
            if (pos >= size) { o[id] = fillMode ? pc.fill : 0u; return; }   // empty operand dimension
            src += pos * stride;
        }
        o[id] = x[src];
        return;
    }
    int rank = meta[0];
    int rem = int(id), src = 0;
    if (MODE == 1)
    {
        for (int d = rank - 1; d >= 0; d--)
        {
            int os = meta[1 + 3 * d], size = meta[2 + 3 * d];
            int k = rem % os;
            rem /= os;
            int start = clamp(idx[d], 0, size - os);
            src += (start + k) * meta[3 + 3 * d];
        }
        o[id] = x[src];
        return;
    }
    bool inside = true;
    for (int d = rank - 1; d >= 0; d--)
    {
        int size = meta[1 + 3 * d], us = meta[2 + 3 * d];
        int k = rem % size;
        rem /= size;
        int start = clamp(idx[d], 0, size - us);
        int u = k - start;
        if (u < 0 || u >= us) inside = false;
        src += u * meta[3 + 3 * d];
    }
    o[id] = inside ? upd[src] : x[id];
}
