#version 450
// Windowed operations, one invocation per output element (deterministic, no atomics).
// MODE 0: reduce_window (KIND 0 sum, 2 max, 3 min) of binding 1.
// MODE 1: select_and_gather_add: the binding-2 (tangent) element at the position the window of
//         binding 1 (operand) selects (KIND 2: first maximum, 3: first minimum; NaN is selected).
// MODE 2: select_and_scatter_add as a gather: each operand element sums, in window order, the
//         binding-2 (source) elements of the windows that contain it and select it.
// Push: v[0] = outputs, v[1] = rank (<= 6), then per dim d at 2 + 5d: operand size, window-output
// size, low padding, window size | stride << 16, base dilation | window dilation << 16.
#include "common.glsl"

layout(constant_id = 0) const int MODE = 0;
layout(constant_id = 1) const int KIND = 0;
layout(constant_id = 2) const int DT = 0;

#include "reduce_ops.glsl"

layout(std430, binding = 0) writeonly buffer Out { uint o[]; };
layout(std430, binding = 1) readonly buffer In { uint x[]; };
layout(std430, binding = 2) readonly buffer Aux { uint t[]; };

layout(push_constant) uniform Push { int v[32]; } pc;

const int IN = 0, OUT = 1, LO = 2, WIN = 3, STR = 4, BDIL = 5, WDIL = 6;
int P(int d, int f)
{
    if (f <= LO) return pc.v[2 + 5 * d + f];
    int w = pc.v[2 + 5 * d + (f <= STR ? 3 : 4)];
    return (f == WIN || f == BDIL) ? (w & 0xFFFF) : (w >> 16);
}

// keep the current selection against a candidate? (NaN is selected and kept)
bool keeps(uint cur, uint cand)
{
    if (red_isnan(cur)) return true;
    if (red_isnan(cand)) return false;
    return KIND == 2 ? !red_gt(cand, cur) : !red_gt(cur, cand);
}

int winSize()
{
    int n = 1;
    for (int d = 0; d < pc.v[1]; d++) n *= P(d, WIN);
    return n;
}

// Operand flat index of window position k of window-output element oidx[], or -1.
int windowElement(int oidx[6], int k)
{
    int rank = pc.v[1];
    int fi = 0;
    for (int d = rank - 1, rem = k, mul = 1; d >= 0; d--)
    {
        int w = P(d, WIN);
        int kd = rem % w;
        rem /= w;
        int p = oidx[d] * P(d, STR) + kd * P(d, WDIL) - P(d, LO);
        int bd = P(d, BDIL);
        if (p < 0 || p % bd != 0 || p / bd >= P(d, IN)) return -1;
        fi += (p / bd) * mul;
        mul *= P(d, IN);
    }
    return fi;
}

int selected(int oidx[6])
{
    int best = -1;
    uint bv = 0u;
    int ws = winSize();
    for (int k = 0; k < ws; k++)
    {
        int e = windowElement(oidx, k);
        if (e < 0) continue;
        uint v = x[e];
        if (best < 0 || !keeps(bv, v)) { best = e; bv = v; }
    }
    return best;
}

void main()
{
    uint id = linear_id();
    if (id >= uint(pc.v[0])) return;
    int rank = pc.v[1];
    int idx[6] = int[6](0, 0, 0, 0, 0, 0);
    int rem = int(id);
    for (int d = rank - 1; d >= 0; d--)
    {
        int n = MODE == 2 ? P(d, IN) : P(d, OUT);
        idx[d] = rem % n;
        rem /= n;
    }
    if (MODE == 0)
    {
        uint acc = red_identity(KIND);
        int ws = winSize();
        for (int k = 0; k < ws; k++)
        {
            int e = windowElement(idx, k);
            acc = red_combine(KIND, acc, e < 0 ? red_identity(KIND) : x[e]);
        }
        o[id] = acc;
        return;
    }
    if (MODE == 1)
    {
        int s = selected(idx);
        o[id] = s < 0 ? 0u : t[s];
        return;
    }
    // MODE 2: windows o with o*stride - lo <= i <= o*stride - lo + win - 1, per dim.
    int first[6] = int[6](0, 0, 0, 0, 0, 0), cnt[6] = int[6](1, 1, 1, 1, 1, 1);
    int total = 1;
    for (int d = 0; d < rank; d++)
    {
        int s = P(d, STR), q = idx[d] + P(d, LO);
        int lo = max(0, q - P(d, WIN) + 1 + s - 1) / s;    // ceil((q - win + 1) / s) for q - win + 1 >= 0
        if (q - P(d, WIN) + 1 < 0) lo = 0;
        int hi = min(P(d, OUT) - 1, q < 0 ? -1 : q / s);
        first[d] = lo;
        cnt[d] = max(0, hi - lo + 1);
        total *= cnt[d];
    }
    int self = int(id);
    uint acc = red_identity(0);
    for (int w = 0; w < total; w++)
    {
        int widx[6] = int[6](0, 0, 0, 0, 0, 0);
        int r = w, fi = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            widx[d] = first[d] + r % cnt[d];
            r /= cnt[d];
        }
        for (int d = 0; d < rank; d++) fi = fi * P(d, OUT) + widx[d];
        if (selected(widx) == self) acc = red_combine(0, acc, t[fi]);
    }
    o[id] = acc;
}
