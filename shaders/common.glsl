// Shared pieces of the Stax compute shaders. Buffers are arrays of 32-bit words; 8- and 16-bit
// elements are packed little-endian, so a shader that writes them owns whole output words.
// dtype codes are Stax.DType: 0 f32, 1 f64, 2 f16, 3 bf16, 4 i32, 5 u32, 6 u8, 7 bool.
#extension GL_EXT_control_flow_attributes : enable

#define WG 256
layout(local_size_x = WG, local_size_y = 1, local_size_z = 1) in;

// Linear invocation id over a 2D grid of workgroups (x up to 65535 groups).
uint linear_id() { return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * WG + gl_LocalInvocationID.x; }

// float32 classification and order on raw bits. Where float controls are not granted, drivers may
// compile float math with fast-math freedoms (NaN/Inf assumed absent, subnormals flushed to zero),
// so special values are recognised on bits, never with isnan/isinf or float comparisons.
bool f_isnan(uint u) { return (u & 0x7FFFFFFFu) > 0x7F800000u; }
bool f_isinf(uint u) { return (u & 0x7FFFFFFFu) == 0x7F800000u; }
bool f_finite(uint u) { return (u & 0x7F800000u) != 0x7F800000u; }
bool f_tiny(uint u) { return (u & 0x7F800000u) == 0u; }             // ±0 or subnormal
// Total order key for non-NaN values: -0 and +0 are both 0; subnormals order exactly.
int f_ord(uint u) { int m = int(u & 0x7FFFFFFFu); return (u & 0x80000000u) != 0u ? -m : m; }

int dt_size(int dt) { return dt == 1 ? 8 : (dt == 0 || dt == 4 || dt == 5) ? 4 : (dt == 2 || dt == 3) ? 2 : 1; }

// Raw bits of element i of a buffer whose elements are ES bytes wide (1, 2 or 4).
#define LOAD_BITS(BUF, ES, i) ((ES) == 4 ? BUF[(i)] : (ES) == 2 ? ((BUF[(i) >> 1] >> (((i) & 1u) * 16u)) & 0xFFFFu) : ((BUF[(i) >> 2] >> (((i) & 3u) * 8u)) & 0xFFu))

// 16-bit float conversions on raw bits, exact and independent of the driver's half-float
// rounding and denormal mode: float16/bfloat16 -> float32 is exact (subnormals normalised, NaN
// payloads kept and quieted, as IEEE conversion and the CPU backend do);
// float32 -> float16/bfloat16 rounds to nearest even, overflows to infinity, keeps NaN quiet with
// its top payload bits (as System.Half and Stax.BFloat16 do on the CPU).
uint f16_to_f32(uint h)
{
    uint s = (h & 0x8000u) << 16;
    uint e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    if (e == 31u) return s | 0x7F800000u | (m << 13) | (m != 0u ? 0x400000u : 0u);
    if (e != 0u) return s | ((e + 112u) << 23) | (m << 13);
    if (m == 0u) return s;
    int p = findMSB(m);                                      // subnormal: m * 2^-24
    return s | (uint(p + 103) << 23) | ((m << uint(23 - p)) & 0x7FFFFFu);
}

uint f32_to_f16(uint u)
{
    uint s = (u >> 16) & 0x8000u;
    uint a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return s | 0x7E00u | ((a >> 13) & 0x3FFu);   // NaN
    if (a >= 0x477FF000u) return s | 0x7C00u;                           // >= 65520: infinity
    if (a >= 0x38800000u)                                               // normal half
    {
        uint r = a - 0x38000000u;
        return s | ((r + 0xFFFu + ((r >> 13) & 1u)) >> 13);
    }
    if (a <= 0x33000000u) return s;                                     // <= 2^-25: zero
    uint e = a >> 23;
    uint m = (a & 0x7FFFFFu) | 0x800000u;
    uint sh = 126u - e;                                                 // 14..24
    uint q = m >> sh, rem = m & ((1u << sh) - 1u), half_ = 1u << (sh - 1u);
    if (rem > half_ || (rem == half_ && (q & 1u) != 0u)) q++;
    return s | q;
}

uint bf16_to_f32(uint h) { uint u = h << 16; return f_isnan(u) ? u | 0x400000u : u; }

uint f32_to_bf16(uint u)
{
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (u >> 16) | 0x40u;
    return (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
}
