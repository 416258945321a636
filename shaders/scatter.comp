#version 450
// scatter, scatter-add/mul/min/max without atomics, deterministic: one invocation per operand
// element walks the update windows in index order (indices [i0, i1) of this pass; lavapipe ends a
// loop after 65535 iterations, so long index lists run in passes that continue from the output)
// and folds in every update element whose window covers it. Binding 1 is the operand (or the
// output itself in later passes), 2 the int32 indices, 3 the updates, 4 the int32 meta table:
// opRank, indices batch rank nb, index vector length nk, drop (1) or clamp (0);
// per indices batch dim j: size, updates stride; per operand dim d: size, window size,
// updates stride of its window dim (0 if none), index component or -1, indices batch dim or -1.
#include "common.glsl"

layout(constant_id = 0) const int OP = 0;    // 0 add, 1 mul, 2 max, 3 min, 4 replace
layout(constant_id = 1) const int DT = 0;

#include "reduce_ops.glsl"

layout(std430, binding = 0) buffer Out { uint o[]; };
layout(std430, binding = 1) readonly buffer X { uint x[]; };
layout(std430, binding = 2) readonly buffer Idx { int idx[]; };
layout(std430, binding = 3) readonly buffer Upd { uint upd[]; };
layout(std430, binding = 4) readonly buffer Meta { int meta[]; };

layout(push_constant) uniform Push { uint n; int i0; int i1; } pc;

void main()
{
    uint id = linear_id();
    if (id >= pc.n) return;
    int opRank = meta[0], nb = meta[1], nk = meta[2];
    bool drop = meta[3] != 0;
    int jb = 4, db = 4 + 2 * nb;
    int e[8];
    int rem = int(id);
    for (int d = opRank - 1; d >= 0; d--)
    {
        int s = meta[db + 5 * d];
        e[d] = rem % s;
        rem /= s;
    }
    uint acc = x[id];
    for (int i = pc.i0; i < pc.i1; i++)
    {
        // batch coordinates of index i and the updates offset of its window
        int bc[8];
        int r = i, u = 0;
        for (int j = nb - 1; j >= 0; j--)
        {
            int s = meta[jb + 2 * j];
            bc[j] = r % s;
            r /= s;
            u += bc[j] * meta[jb + 2 * j + 1];
        }
        bool hit = true;
        for (int d = 0; d < opRank && hit; d++)
        {
            int size = meta[db + 5 * d], ws = meta[db + 5 * d + 1], ustr = meta[db + 5 * d + 2];
            int comp = meta[db + 5 * d + 3], bj = meta[db + 5 * d + 4];
            int start = 0;
            if (comp >= 0)
            {
                start = idx[i * nk + comp];
                if (start < 0 || start > size - ws)
                {
                    if (drop) { hit = false; break; }
                    start = clamp(start, 0, size - ws);
                }
            }
            else if (bj >= 0) start = bc[bj];
            int off = e[d] - start;
            if (off < 0 || off >= ws) hit = false;
            u += off * ustr;
        }
        if (!hit) continue;
        uint v = upd[u];
        acc = OP == 4 ? v : red_combine(OP, acc, v);
    }
    o[id] = acc;
}
