// Shared pieces of the Stax compute shaders. Buffers are arrays of 32-bit words; 8- and 16-bit
// elements are packed little-endian, so a shader that writes them owns whole output words.
// dtype codes are Stax.DType: 0 f32, 1 f64, 2 f16, 3 bf16, 4 i32, 5 u32, 6 u8, 7 bool.
#extension GL_EXT_control_flow_attributes : enable

#define WG 256
layout(local_size_x = WG, local_size_y = 1, local_size_z = 1) in;

// Linear invocation id over a 2D grid of workgroups (x up to 65535 groups).
uint linear_id() { return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * WG + gl_LocalInvocationID.x; }

int dt_size(int dt) { return dt == 1 ? 8 : (dt == 0 || dt == 4 || dt == 5) ? 4 : (dt == 2 || dt == 3) ? 2 : 1; }

// Raw bits of element i of a buffer whose elements are ES bytes wide (1, 2 or 4).
#define LOAD_BITS(BUF, ES, i) ((ES) == 4 ? BUF[(i)] : (ES) == 2 ? ((BUF[(i) >> 1] >> (((i) & 1u) * 16u)) & 0xFFFFu) : ((BUF[(i) >> 2] >> (((i) & 3u) * 8u)) & 0xFFu))
