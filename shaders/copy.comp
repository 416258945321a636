#version 450
// Strided copies (broadcast_in_dim, transpose, slice, rev, concatenate, bitcast) and pad.
// MODE 0: for each index of the iteration space dims[], out[outOff + idx.outStr] = in[inOff + idx.inStr];
//         8/16-bit elements need a dense row-major output (one invocation per output word).
// MODE 1: pad: out element -> operand element or the padding value (binding 2).
#include "common.glsl"

layout(constant_id = 0) const int MODE = 0;
layout(constant_id = 1) const int ES = 4;      // element size in bytes: 1, 2 or 4

layout(std430, binding = 0) buffer Out { uint o[]; };
layout(std430, binding = 1) readonly buffer In { uint src[]; };
layout(std430, binding = 2) readonly buffer PadValue { uint pv[]; };

layout(push_constant) uniform Push { int v[28]; } pc;

const uint MASK = ES == 4 ? 0xFFFFFFFFu : ES == 2 ? 0xFFFFu : 0xFFu;

// Source element of output element i, or -1 for padding.
int source(uint i, out uint outIndex)
{
    int rank = pc.v[1];
    if (MODE == 0)
    {
        int si = pc.v[2], oi = pc.v[3];
        uint rem = i;
        for (int d = rank - 1; d >= 0; d--)
        {
            uint dim = uint(pc.v[4 + d]);
            int k = int(rem % dim);
            rem /= dim;
            si += k * pc.v[10 + d];
            oi += k * pc.v[16 + d];
        }
        outIndex = uint(oi);
        return si;
    }
    int si = 0;
    uint rem = i;
    outIndex = i;
    for (int d = rank - 1; d >= 0; d--)
    {
        uint dim = uint(pc.v[2 + d]);
        int k = int(rem % dim) - pc.v[7 + d];
        rem /= dim;
        int step = pc.v[12 + d];
        if (k < 0 || k % step != 0) return -1;
        k /= step;
        if (k >= pc.v[17 + d]) return -1;
        si += k * pc.v[22 + d];
    }
    return si;
}

uint value(uint i, out uint outIndex)
{
    int s = source(i, outIndex);
    return s < 0 ? LOAD_BITS(pv, ES, 0u) : LOAD_BITS(src, ES, uint(s));
}

void main()
{
    uint n = uint(pc.v[0]);
    uint w = linear_id();
    if (ES == 4)
    {
        if (w >= n) return;
        uint oi;
        uint v = value(w, oi);
        o[oi] = v;
        return;
    }
    const uint EPW = uint(4 / ES);
    uint first = w * EPW;
    if (first >= n) return;
    uint word = 0u;
    [[unroll]] for (uint k = 0u; k < EPW; k++)
    {
        uint i = first + k;
        uint oi;
        if (i < n) word |= (value(i, oi) & MASK) << (k * uint(ES) * 8u);
    }
    o[w] = word;
}
