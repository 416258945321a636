// Fused elementwise chains, in five sizes: fused_s.comp and fused.comp (12 or 48 steps of cheap
// operations), fused_sh.comp, fused_h3.comp and fused_heavy.comp (12 or 48 steps, some of which
// also run the library functions), all written by fused_variants.py. One invocation computes element i of every output of a chain (outputs at
// bindings 0..3, inputs at 4..27). The chain is baked into the pipeline as specialization
// constants, one pipeline per distinct chain (cached by the backend), so the driver's compiler
// sees constant op codes and operand numbers: it keeps only the taken case of each step, and the
// values in registers, and the chain runs as straight-line code. (An interpreter reading the
// program from a buffer made SIMD compilers such as lavapipe's run every case under masks.)
// The SPIR-V stays precompiled: no shader compiler is needed where Stax runs.
// Constants: IN<k> (input k: 0 absent, else 8 | mode | 4 for a bool input; mode 0 element i,
// 1 element 0, 2 element i % C<k>, 3 element i / C<k>), OUT<j> (the value output j stores, or NONE),
// W<s> (step s: op | a << 8 | b << 16 | c << 24, or NOP). Values: input k is r[k], step s's result
// is r[24 + s]; op + 128 is the int32 operation; a, b and c name values (c: select's false operand; a conversion's source kind:
// 0 float32, 1 bool, 2 int32, 3 uint32). Every input is loaded before anything is stored, so an
// output may be written over an input read at element i.
// The op codes are the elementwise registry's (the Vulkan side of Stax's ElementwiseOps, as in
// elementwise.comp); the arithmetic is the same as elementwise.comp's float32 cases, so a fused
// chain gives the bits the separate dispatches give (precise: no contraction into FMAs).
// Steps are split by cost: every step can run the cheap operations; only some steps of
// fused_sh.comp, fused_h3.comp and fused_heavy.comp carry the library functions (the driver inlines every step's whole table
// before it folds the constants, so the table's size is the pipeline's compile time).
#include "common.glsl"
#include "math.glsl"

layout(std430, binding = 0) writeonly buffer O0 { uint o0[]; };
layout(std430, binding = 1) writeonly buffer O1 { uint o1[]; };
layout(std430, binding = 2) writeonly buffer O2 { uint o2[]; };
layout(std430, binding = 3) writeonly buffer O3 { uint o3[]; };
layout(std430, binding = 4) readonly buffer I0 { uint i0[]; };
layout(std430, binding = 5) readonly buffer I1 { uint i1[]; };
layout(std430, binding = 6) readonly buffer I2 { uint i2[]; };
layout(std430, binding = 7) readonly buffer I3 { uint i3[]; };
layout(std430, binding = 8) readonly buffer I4 { uint i4[]; };
layout(std430, binding = 9) readonly buffer I5 { uint i5[]; };
layout(std430, binding = 10) readonly buffer I6 { uint i6[]; };
layout(std430, binding = 11) readonly buffer I7 { uint i7[]; };
layout(std430, binding = 12) readonly buffer I8 { uint i8[]; };
layout(std430, binding = 13) readonly buffer I9 { uint i9[]; };
layout(std430, binding = 14) readonly buffer I10 { uint i10[]; };
layout(std430, binding = 15) readonly buffer I11 { uint i11[]; };
layout(std430, binding = 16) readonly buffer I12 { uint i12[]; };
layout(std430, binding = 17) readonly buffer I13 { uint i13[]; };
layout(std430, binding = 18) readonly buffer I14 { uint i14[]; };
layout(std430, binding = 19) readonly buffer I15 { uint i15[]; };
layout(std430, binding = 20) readonly buffer I16 { uint i16[]; };
layout(std430, binding = 21) readonly buffer I17 { uint i17[]; };
layout(std430, binding = 22) readonly buffer I18 { uint i18[]; };
layout(std430, binding = 23) readonly buffer I19 { uint i19[]; };
layout(std430, binding = 24) readonly buffer I20 { uint i20[]; };
layout(std430, binding = 25) readonly buffer I21 { uint i21[]; };
layout(std430, binding = 26) readonly buffer I22 { uint i22[]; };
layout(std430, binding = 27) readonly buffer I23 { uint i23[]; };

// Op codes (the registry's VulkanOp values).
const int NEG = 0, EXP = 1, LOG = 2, LOG1P = 3, EXPM1 = 4, TANH = 5, LOGISTIC = 6, SQRT = 7, RSQRT = 8,
    ABS = 9, SIGN = 10, SIN = 11, COS = 12, ERF = 13, ERFINV = 14, FLOOR = 15, CEIL = 16, ROUND_AWAY = 17,
    ROUND_EVEN = 18, NOT = 19, ISFINITE = 20;
const int ADD = 32, SUB = 33, MUL = 34, DIV = 35, REM = 36, POW = 37, MAX = 38, MIN = 39, ATAN2 = 40,
    AND = 41, OR = 42, XOR = 43, SHL = 44, SHRL = 45, SHRA = 46, EQ = 47, NE = 48, LT = 49, LE = 50, GT = 51, GE = 52;
const int SELECT = 64, CONVERT = 65, IOTA = 66, BITCAST = 67;


const uint NOP = 0xFFu, NONE = 0xFFu;

layout(push_constant) uniform Push { uint n; } pc;

uint r[24 + SLOTS];
uint gi;

uint fbits(float v) { return floatBitsToUint(v); }
uint bbits(bool v) { return v ? 1u : 0u; }

// The element an input is read at, by its mode.
uint loadIndex(uint m, uint c) { uint mode = m & 3u; return mode == 0u ? gi : mode == 1u ? 0u : mode == 2u ? gi % c : gi / c; }
// An input's value from its word (bool inputs are bytes).
uint load(uint m, uint c, uint word) { return (m & 4u) != 0u ? (word >> ((loadIndex(m, c) & 3u) * 8u)) & 0xFFu : word; }

// int32 operations (op code + INT): two's complement, wrapping like the CPU backend's.
const uint INT = 128u;
uint opInt(int op, uint u, uint v)
{
    int x = int(u), y = int(v);
    switch (op)
    {
    case NEG: return uint(-x);
    case ADD: return u + v;
    case SUB: return u - v;
    case MUL: return u * v;
    case MAX: return uint(max(x, y));
    case MIN: return uint(min(x, y));
    case EQ: return bbits(x == y);
    case NE: return bbits(x != y);
    case LT: return bbits(x < y);
    case LE: return bbits(x <= y);
    case GT: return bbits(x > y);
    case GE: return bbits(x >= y);
    }
    return 0u;
}

uint opLight(uint w)
{
    uint op = w & 0xFFu;
    uint u = r[(w >> 8) & 0xFFu], v = r[(w >> 16) & 0xFFu], c = w >> 24;
    if (op >= INT) return opInt(int(op - INT), u, v);
    if (op == uint(SELECT)) return u != 0u ? v : r[c];
    if (op == uint(CONVERT))
        return c == 1u ? (u != 0u ? 0x3F800000u : 0u) : c == 2u ? fbits(float(int(u))) : c == 3u ? fbits(float(u)) : u;
    float x = uintBitsToFloat(u), y = uintBitsToFloat(v);
    // One square root and one division per step (rsqrt is 1 / sqrt): each inlined copy of the
    // library costs the driver compile time.
    if (op == uint(SQRT) || op == uint(RSQRT))
    {
        float q = m_sqrt(x);
        if (op == uint(SQRT)) return fbits(q);
        x = 1.0;
        y = q;
        op = uint(DIV);
    }
    uint sign = u & 0x80000000u, mag = u & 0x7FFFFFFFu;
    bool nan = f_isnan(u), tiny = f_tiny(u);
    // Comparisons, max and min on bits: NaN unordered, -0 == +0, subnormals exact.
    bool unord = f_isnan(u) || f_isnan(v);
    int ox = f_ord(u), oy = f_ord(v);
    switch (int(op))
    {
    case NEG: return u ^ 0x80000000u;
    case ABS: return mag;
    case SIGN: return nan || mag == 0u ? u : sign | 0x3F800000u;
    case FLOOR: return nan ? u | 0x00400000u : !tiny ? fbits(floor(x)) : mag == 0u || sign == 0u ? sign : 0xBF800000u;
    case CEIL: return nan ? u | 0x00400000u : !tiny ? fbits(ceil(x)) : mag == 0u || sign != 0u ? sign : 0x3F800000u;
    case ROUND_AWAY: return nan ? u | 0x00400000u : tiny ? sign : fbits(m_round_away(x));
    case ROUND_EVEN: return nan ? u | 0x00400000u : tiny ? sign : fbits(roundEven(x));
    case ISFINITE: return bbits(f_finite(u));
    case ADD: { precise float s = x + y; return fbits(s); }
    case SUB: { precise float s = x - y; return fbits(s); }
    case MUL: { precise float s = x * y; return fbits(s); }
    case DIV: return fbits(m_div(x, y));
    case MAX: return unord ? fbits(NAN) : ox > oy ? u : ox < oy ? v : (u & 0x80000000u) != 0u ? v : u;
    case MIN: return unord ? fbits(NAN) : ox < oy ? u : ox > oy ? v : (u & 0x80000000u) != 0u ? u : v;
    case EQ: return bbits(!unord && ox == oy);
    case NE: return bbits(unord || ox != oy);
    case LT: return bbits(!unord && ox < oy);
    case LE: return bbits(!unord && ox <= oy);
    case GT: return bbits(!unord && ox > oy);
    case GE: return bbits(!unord && ox >= oy);
    }
    return 0u;
}

// The library functions (FusionKernel.IsHeavy lists them), else a cheap operation.
uint opFull(uint w)
{
    uint op = w & 0xFFu;
    float x = uintBitsToFloat(r[(w >> 8) & 0xFFu]), y = uintBitsToFloat(r[(w >> 16) & 0xFFu]);
    switch (int(op))
    {
    case EXP: return fbits(m_exp(x));
    case LOG: return fbits(m_log(x));
    case LOG1P: return fbits(m_log1p(x));
    case EXPM1: return fbits(m_expm1(x));
    case TANH: return fbits(m_tanh(x));
    case LOGISTIC: return fbits(m_logistic(x));
    case SIN: return fbits(m_sin(x));
    case COS: return fbits(m_cos(x));
    case ERF: return fbits(m_erf(x));
    case ERFINV: return fbits(m_erfinv(x));
    case REM: return fbits(m_fmod(x, y));
    case POW: return fbits(m_pow(x, y));
    case ATAN2: return fbits(m_atan2(x, y));
    }
    return opLight(w);
}
