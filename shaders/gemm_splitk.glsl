// Second pass of a split-K GEMM (see gemm_tiled.glsl): C[o + i] = (C[o + i] +) sum over slices s of
// P[s * stride + i], the slices added in order 0, 1, ... so the result does not depend on scheduling.
// The including file defines T.
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) buffer OutC { T c[]; };
layout(std430, binding = 1) readonly buffer Partial { T p[]; };

// 0 elements, 1 slices, 2 stride between slices, 3 accumulate into C, 4 offset o of the block in C.
layout(push_constant) uniform Push { int v[5]; } pc;

void main()
{
    int i = int((gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x);
    if (i >= pc.v[0]) return;
    T s = p[i];
    for (int k = 1; k < pc.v[1]; k++) s += p[k * pc.v[2] + i];
    int o = pc.v[4] + i;
    c[o] = pc.v[3] != 0 ? c[o] + s : s;
}
