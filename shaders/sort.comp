#version 450
// Sorting along one axis of an [outer, n, inner] view via a bitonic network over a permutation
// buffer perm[lines, N] (N = n rounded up to a power of two; padding indices >= n sort last).
// The comparator is total (keys lexicographically, then the original index), so the result is
// the stable sort and does not depend on the network. MODE 0 initialises perm; MODE 1 runs one
// compare-exchange stage (push k, j); MODE 2 writes out[line, i] = operand[line, perm[line, i]]
// for i < v[5] (all n for sort, k for top_k), and MODE 3 writes the int32 indices perm[line, i].
// Keys: binding 2 + key (up to 4), dtypes DTk (0 f32, 4 i32, 5 u32). DESC sorts descending (top_k).
// Float order: every NaN is equal to the others and above +inf; -0 equals +0.
#include "common.glsl"

layout(constant_id = 0) const int MODE = 0;
layout(constant_id = 1) const int NK = 1;
layout(constant_id = 2) const int DESC = 0;
layout(constant_id = 3) const int DT0 = 0;
layout(constant_id = 4) const int DT1 = 0;
layout(constant_id = 5) const int DT2 = 0;
layout(constant_id = 6) const int DT3 = 0;

layout(std430, binding = 0) buffer Perm { uint perm[]; };
layout(std430, binding = 1) buffer Out { uint o[]; };
layout(std430, binding = 2) readonly buffer K0 { uint k0[]; };
layout(std430, binding = 3) readonly buffer K1 { uint k1[]; };
layout(std430, binding = 4) readonly buffer K2 { uint k2[]; };
layout(std430, binding = 5) readonly buffer K3 { uint k3[]; };

// v: lines, n, inner, N, stage k, stage j (MODE 1) / count written (MODE 2, 3), out row length
layout(push_constant) uniform Push { int v[8]; } pc;

int cmpKey(uint a, uint b, int dt)
{
    if (dt == 0)
    {
        // On bits: subnormals order exactly even where the driver flushes them in float compares.
        bool nx = f_isnan(a), ny = f_isnan(b);
        if (nx || ny) return nx && ny ? 0 : nx ? 1 : -1;
        int x = f_ord(a), y = f_ord(b);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (dt == 4) return int(a) < int(b) ? -1 : int(a) > int(b) ? 1 : 0;
    return a < b ? -1 : a > b ? 1 : 0;
}

// Should element index a come after index b? (both original positions in the line at base)
bool after(uint a, uint b, uint base, uint inner, uint n)
{
    if (a >= n || b >= n) return a > b;          // padding last (and ordered among itself)
    uint ea = base + a * inner, eb = base + b * inner;
    int c = cmpKey(k0[ea], k0[eb], DT0);
    if (c == 0 && NK > 1) c = cmpKey(k1[ea], k1[eb], DT1);
    if (c == 0 && NK > 2) c = cmpKey(k2[ea], k2[eb], DT2);
    if (c == 0 && NK > 3) c = cmpKey(k3[ea], k3[eb], DT3);
    if (DESC != 0) c = -c;
    return c != 0 ? c > 0 : a > b;
}

void main()
{
    uint id = linear_id();
    uint lines = uint(pc.v[0]), n = uint(pc.v[1]), inner = uint(pc.v[2]), N = uint(pc.v[3]);
    if (MODE == 0)
    {
        if (id >= lines * N) return;
        perm[id] = id % N;
        return;
    }
    if (MODE == 1)
    {
        if (id >= lines * N) return;
        uint line = id / N, i = id % N;
        uint k = uint(pc.v[4]), j = uint(pc.v[5]);
        uint partner = i ^ j;
        if (partner <= i) return;
        uint base = line / inner * n * inner + line % inner;
        uint a = perm[line * N + i], b = perm[line * N + partner];
        bool up = (i & k) == 0u;
        if (after(a, b, base, inner, n) == up)
        {
            perm[line * N + i] = b;
            perm[line * N + partner] = a;
        }
        return;
    }
    uint m = uint(pc.v[6]);          // entries written per line
    if (id >= lines * m) return;
    uint line = id / m, i = id % m;
    uint src = perm[line * N + i];
    // output is [outer, m, inner]
    uint ob = line / inner * m * inner + line % inner + i * inner;
    if (MODE == 2) o[ob] = k0[line / inner * n * inner + line % inner + src * inner];
    else o[ob] = src;
}
