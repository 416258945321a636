#version 450
// threefry2x32 (20 rounds, Random123), elementwise over uint32 key0, key1, x0, x1.
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Y0 { uint y0[]; };
layout(std430, binding = 1) writeonly buffer Y1 { uint y1[]; };
layout(std430, binding = 2) readonly buffer K0 { uint k0[]; };
layout(std430, binding = 3) readonly buffer K1 { uint k1[]; };
layout(std430, binding = 4) readonly buffer X0 { uint x0[]; };
layout(std430, binding = 5) readonly buffer X1 { uint x1[]; };

layout(push_constant) uniform Push { uint n; } pc;

uint rotl(uint v, int r) { return (v << r) | (v >> (32 - r)); }

void main()
{
    uint i = linear_id();
    if (i >= pc.n) return;
    uint ks[3];
    ks[0] = k0[i]; ks[1] = k1[i]; ks[2] = ks[0] ^ ks[1] ^ 0x1BD11BDAu;
    uint a = x0[i] + ks[0], b = x1[i] + ks[1];
    const int R[8] = int[8](13, 15, 26, 6, 17, 29, 16, 24);
    [[unroll]] for (int g = 1; g <= 5; g++)
    {
        [[unroll]] for (int j = 0; j < 4; j++)
        {
            a += b;
            b = rotl(b, R[((g - 1) % 2) * 4 + j]);
            b ^= a;
        }
        a += ks[g % 3];
        b += ks[(g + 1) % 3] + uint(g);
    }
    y0[i] = a;
    y1[i] = b;
}
