// Reductions over the middle axis of an [outer, r, inner] view (reduce_sum/prod/max/min, argmax,
// argmin) and inclusive scans along it (cumsum/cumprod/cummax/cummin). Deterministic: every
// result is computed in a fixed order that depends only on the shape and MODE.
// MODE 0: one workgroup per output (or per chunk of v[3] elements of it: the partials [outer,
//         chunks, inner] are then reduced again by the host, so rows have no length cap); each
//         invocation folds k = t, t+WG, ... then a fixed
//         shared-memory tree combines the WG partials, or (reduce_sg.comp, STAX_SUBGROUP) subgroup
//         operations combine each subgroup's partials and then the subgroup results (arg
//         reductions keep the tree). The order of a subgroup operation is the device's own but
//         fixed, so results stay the same bits run to run on one device.
// MODE 1: one invocation per output, folding k = 0..r-1 in order.
// MODE 0 and 1 flags (v[4]): 1: the input holds arg partials, whose indices are in binding 3;
// 2: arg reductions also write the chosen values to binding 2 (partials for the next pass).
// MODE 2: scan of blocks: one invocation per (line, block of v[4] elements), in order (reversed
//         when v[3] != 0). Longer lines (lavapipe stops a loop after 65535 iterations) then run
// MODE 3: one invocation per line: exclusive carries of the blocks into aux, and
// MODE 4: one invocation per element of blocks 1..: out = carry (+) out.
// Float sums use compensated (Kahan) accumulation per invocation; the combining steps add the
// partial sums and subtract the sum of their compensations.
#include "common.glsl"

layout(constant_id = 0) const int OP = 0;    // 0 sum, 1 prod, 2 max, 3 min, 4 argmax, 5 argmin
layout(constant_id = 1) const int DT = 0;    // working dtype: 0 f32, 4 i32, 5 u32
layout(constant_id = 2) const int MODE = 0;

#include "reduce_ops.glsl"

layout(std430, binding = 0) buffer Out { uint o[]; };
layout(std430, binding = 1) readonly buffer In { uint x[]; };

layout(std430, binding = 2) buffer Aux { uint aux[]; };
layout(std430, binding = 3) readonly buffer InIdx { uint xi[]; };

// outer, r, inner, then MODE 0/1: chunk (0: whole rows), flags; scans: reverse, scan block
layout(push_constant) uniform Push { int v[5]; } pc;

const bool ARG = OP >= 4;
const int KIND = ARG ? 0 : OP;

shared uint sv[WG];
shared uint si[WG];
shared float sc[WG];

struct Acc { uint v; uint i; float c; };

Acc acc_init() { Acc a; a.v = ARG ? 0u : red_identity(KIND); a.i = 0xFFFFFFFFu; a.c = 0.0; return a; }

void acc_add(inout Acc a, uint val, uint k)
{
    if (ARG)
    {
        if (a.i == 0xFFFFFFFFu || arg_better(OP == 4, val, k, a.v, a.i)) { a.v = val; a.i = k; }
        return;
    }
    if (KIND == 0 && DT == 0)
    {
        precise float s = uintBitsToFloat(a.v);
        precise float y = uintBitsToFloat(val) - a.c;
        precise float t = s + y;
        precise float corr = (t - s) - y;
        // Infinite or NaN terms: plain addition (the correction would be NaN).
        bool special = !f_finite(floatBitsToUint(t));
        precise float plain = s + uintBitsToFloat(val);
        a.c = special ? 0.0 : corr;
        a.v = floatBitsToUint(special ? plain : t);
        return;
    }
    a.v = red_combine(KIND, a.v, val);
}

uint acc_result(Acc a) { return ARG ? a.i : a.v; }

#ifdef STAX_SUBGROUP
// Order-preserving map of float32 bits to uint (-0 just below +0), and back.
uint f_key(uint u) { return (u & 0x80000000u) != 0u ? ~u : u | 0x80000000u; }
uint f_unkey(uint k) { return (k & 0x80000000u) != 0u ? k & 0x7FFFFFFFu : ~k; }

// Combines the partial (v, compensation c) of every invocation of the subgroup; same semantics as
// red_combine (max/min propagate NaN and order -0 below +0; sums subtract the compensations).
uint sg_combine(uint v, float c)
{
    if (KIND == 0)
    {
        if (DT == 0)
        {
            precise float s = subgroupAdd(uintBitsToFloat(v));
            precise float cs = subgroupAdd(c);
            precise float r = s - cs;
            return floatBitsToUint(!f_finite(floatBitsToUint(s)) ? s : r);
        }
        return subgroupAdd(v);
    }
    if (KIND == 1) return DT == 0 ? floatBitsToUint(subgroupMul(uintBitsToFloat(v))) : subgroupMul(v);
    if (DT == 0)
    {
        if (subgroupMax(f_isnan(v) ? 1u : 0u) != 0u) return F_NAN;
        uint k = f_key(v);
        return f_unkey(KIND == 2 ? subgroupMax(k) : subgroupMin(k));
    }
    if (DT == 4) return uint(KIND == 2 ? subgroupMax(int(v)) : subgroupMin(int(v)));
    return KIND == 2 ? subgroupMax(v) : subgroupMin(v);
}
#endif

// Element k of the row at base (for arg partials, k is replaced by the index stored with it).
void fold(inout Acc a, uint base, uint k, uint inner, bool pairs)
{
    uint at = base + k * inner;
    acc_add(a, x[at], ARG && pairs ? xi[at] : k);
}

void main()
{
    uint outer = uint(pc.v[0]), r = uint(pc.v[1]), inner = uint(pc.v[2]);
    bool pairs = MODE <= 1 && (pc.v[4] & 1) != 0, writeVals = MODE <= 1 && (pc.v[4] & 2) != 0;
    if (MODE == 0)
    {
        uint g = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
        uint t = gl_LocalInvocationID.x;
        uint chunk = pc.v[3] > 0 ? uint(pc.v[3]) : max(r, 1u);
        uint nc = (r + chunk - 1u) / chunk;
        if (nc == 0u) nc = 1u;
        bool live = g < outer * nc * inner;
        uint oo = live ? g / (nc * inner) : 0u, j = live ? g / inner % nc : 0u, ii = live ? g % inner : 0u;
        uint base = oo * r * inner + ii;
        uint k0 = j * chunk, k1 = min(r, k0 + chunk);
        Acc a = acc_init();
        if (live) for (uint k = k0 + t; k < k1; k += WG) fold(a, base, k, inner, pairs);
#ifdef STAX_SUBGROUP
        if (!ARG)
        {
            uint part = sg_combine(a.v, a.c);
            if (subgroupElect()) sv[gl_SubgroupID] = part;
            barrier();
            if (gl_SubgroupID == 0u)
            {
                // Subgroup 0 folds the subgroup results (lane, lane + size, ... in order), then combines.
                uint v = red_identity(KIND);
                for (uint j = gl_SubgroupInvocationID; j < gl_NumSubgroups; j += gl_SubgroupSize) v = red_combine(KIND, v, sv[j]);
                uint r = sg_combine(v, 0.0);
                if (live && subgroupElect()) o[g] = r;
            }
            return;
        }
#endif
        sv[t] = a.v; si[t] = a.i; sc[t] = a.c;
        barrier();
        for (uint s = WG / 2; s > 0u; s >>= 1)
        {
            if (t < s)
            {
                uint bv = sv[t + s], bi = si[t + s];
                if (ARG)
                {
                    if (bi != 0xFFFFFFFFu && (si[t] == 0xFFFFFFFFu || arg_better(OP == 4, bv, bi, sv[t], si[t]))) { sv[t] = bv; si[t] = bi; }
                }
                else if (KIND == 0 && DT == 0)
                {
                    precise float sum = uintBitsToFloat(sv[t]) + uintBitsToFloat(bv);
                    sv[t] = floatBitsToUint(sum - (sc[t] + sc[t + s]));
                    sc[t] = 0.0;
                }
                else sv[t] = red_combine(KIND, sv[t], bv);
            }
            barrier();
        }
        if (live && t == 0u)
        {
            o[g] = ARG ? si[0] : sv[0];
            if (ARG && writeVals) aux[g] = sv[0];
        }
        return;
    }
    uint id = linear_id();
    if (MODE == 1)
    {
        if (id >= outer * inner) return;
        uint base = id / inner * r * inner + id % inner;
        Acc a = acc_init();
        for (uint k = 0u; k < r; k++) fold(a, base, k, inner, pairs);
        o[id] = acc_result(a);
        if (ARG && writeVals) aux[id] = a.v;
        return;
    }
    bool rev = pc.v[3] != 0;
    uint bs = uint(pc.v[4]);
    uint nb = (r + bs - 1u) / bs;
    if (MODE == 2)
    {
        if (id >= outer * inner * nb) return;
        uint line = id / nb, b = id % nb;
        uint base = line / inner * r * inner + line % inner;
        Acc a = acc_init();
        for (uint s = b * bs; s < min(r, b * bs + bs); s++)
        {
            uint kk = rev ? r - 1u - s : s;
            uint at = base + kk * inner;
            acc_add(a, x[at], kk);
            o[at] = KIND == 0 && DT == 0 ? floatBitsToUint(uintBitsToFloat(a.v) - a.c) : a.v;
        }
        return;
    }
    if (MODE == 3)
    {
        if (id >= outer * inner) return;
        uint base = id / inner * r * inner + id % inner;
        uint carry = red_identity(KIND);
        for (uint b = 0u; b + 1u < nb; b++)
        {
            uint e = b * bs + bs - 1u;                           // last element of block b in scan order
            carry = red_combine(KIND, carry, o[base + (rev ? r - 1u - e : e) * inner]);
            aux[id * nb + b + 1u] = carry;
        }
        return;
    }
    // MODE 4: element id of the [outer, r, inner] array.
    if (id >= outer * r * inner) return;
    uint kk = id / inner % r;
    uint s = rev ? r - 1u - kk : kk;
    if (s < bs) return;
    uint line = id / (r * inner) * inner + id % inner;
    o[id] = red_combine(KIND, aux[line * nb + s / bs], o[id]);
}
