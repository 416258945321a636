#version 450
// Fused float32 elementwise chains: one invocation computes element i of every output of a chain
// by interpreting a small program (binding 28; outputs at 0..3, inputs at 4..27) over a register file. The op codes are the
// elementwise registry's (the Vulkan side of Stax's ElementwiseOps, as in elementwise.comp); the
// arithmetic is the same as elementwise.comp's float32 cases, so a fused chain gives the bits the
// separate dispatches give (precise: no contraction into FMAs).
// Program: word 0 = instruction count, then two words per instruction:
//   w0 = op | dst << 8 | a << 16 | b << 24, w1 = c (select's false operand, a load's row length,
//   a conversion's source kind: 0 float32, 1 bool, 2 int32, 3 uint32). LOAD: a = input slot, b = mode (0 element i, 1 element 0,
//   2 element i % c, 3 element i / c; +4: bytes (bool)). STORE: a = register, b = output slot.
// All loads come first, so an output may be written over an input read at element i.
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
layout(std430, binding = 28) readonly buffer Prog { uint prog[]; };

layout(push_constant) uniform Push { uint n; } pc;

const uint LOAD = 100u, STORE = 101u, REGS = 64u;
// Op codes (VulkanOps.cs mirrors them).
const int NEG = 0, EXP = 1, LOG = 2, LOG1P = 3, EXPM1 = 4, TANH = 5, LOGISTIC = 6, SQRT = 7, RSQRT = 8,
    ABS = 9, SIGN = 10, SIN = 11, COS = 12, ERF = 13, ERFINV = 14, FLOOR = 15, CEIL = 16, ROUND_AWAY = 17,
    ROUND_EVEN = 18, NOT = 19, ISFINITE = 20;
const int ADD = 32, SUB = 33, MUL = 34, DIV = 35, REM = 36, POW = 37, MAX = 38, MIN = 39, ATAN2 = 40,
    AND = 41, OR = 42, XOR = 43, SHL = 44, SHRL = 45, SHRA = 46, EQ = 47, NE = 48, LT = 49, LE = 50, GT = 51, GE = 52;
const int SELECT = 64, CONVERT = 65, IOTA = 66, BITCAST = 67;


uint fbits(float r) { return floatBitsToUint(r); }
uint bbits(bool v) { return v ? 1u : 0u; }

uint unaryF(uint OP, float x)
{
    uint u = floatBitsToUint(x);
    uint sign = u & 0x80000000u, mag = u & 0x7FFFFFFFu;
    bool nan = f_isnan(u), tiny = f_tiny(u);
    switch (int(OP))
    {
    case NEG: return u ^ 0x80000000u;
    case EXP: return fbits(m_exp(x));
    case LOG: return fbits(m_log(x));
    case LOG1P: return fbits(m_log1p(x));
    case EXPM1: return fbits(m_expm1(x));
    case TANH: return fbits(m_tanh(x));
    case LOGISTIC: return fbits(m_logistic(x));
    case SQRT: return fbits(m_sqrt(x));
    case RSQRT: return fbits(m_div(1.0, m_sqrt(x)));
    case ABS: return mag;
    case SIGN: return nan || mag == 0u ? u : sign | 0x3F800000u;
    case SIN: return fbits(m_sin(x));
    case COS: return fbits(m_cos(x));
    case ERF: return fbits(m_erf(x));
    case ERFINV: return fbits(m_erfinv(x));
    case FLOOR: return nan ? u | 0x00400000u : !tiny ? fbits(floor(x)) : mag == 0u || sign == 0u ? sign : 0xBF800000u;
    case CEIL: return nan ? u | 0x00400000u : !tiny ? fbits(ceil(x)) : mag == 0u || sign != 0u ? sign : 0x3F800000u;
    case ROUND_AWAY: return nan ? u | 0x00400000u : tiny ? sign : fbits(m_round_away(x));
    case ROUND_EVEN: return nan ? u | 0x00400000u : tiny ? sign : fbits(roundEven(x));
    case ISFINITE: return bbits(f_finite(u));
    }
    return 0u;
}

uint binaryF(uint OP, float x, float y)
{
    uint ux = floatBitsToUint(x), uy = floatBitsToUint(y);
    // Comparisons, max and min on bits: NaN unordered, -0 == +0, subnormals exact.
    bool unord = f_isnan(ux) || f_isnan(uy);
    int ox = f_ord(ux), oy = f_ord(uy);
    switch (int(OP))
    {
    case ADD: { precise float r = x + y; return fbits(r); }
    case SUB: { precise float r = x - y; return fbits(r); }
    case MUL: { precise float r = x * y; return fbits(r); }
    case DIV: return fbits(m_div(x, y));
    case REM: return fbits(m_fmod(x, y));
    case POW: return fbits(m_pow(x, y));
    case MAX: return unord ? fbits(NAN) : ox > oy ? ux : ox < oy ? uy : (ux & 0x80000000u) != 0u ? uy : ux;
    case MIN: return unord ? fbits(NAN) : ox < oy ? ux : ox > oy ? uy : (ux & 0x80000000u) != 0u ? ux : uy;
    case ATAN2: return fbits(m_atan2(x, y));
    case EQ: return bbits(!unord && ox == oy);
    case NE: return bbits(unord || ox != oy);
    case LT: return bbits(!unord && ox < oy);
    case LE: return bbits(!unord && ox <= oy);
    case GT: return bbits(!unord && ox > oy);
    case GE: return bbits(!unord && ox >= oy);
    }
    return 0u;
}


uint loadWord(uint slot, uint w)
{
    switch (slot)
    {
    case 0u: return i0[w];
    case 1u: return i1[w];
    case 2u: return i2[w];
    case 3u: return i3[w];
    case 4u: return i4[w];
    case 5u: return i5[w];
    case 6u: return i6[w];
    case 7u: return i7[w];
    case 8u: return i8[w];
    case 9u: return i9[w];
    case 10u: return i10[w];
    case 11u: return i11[w];
    case 12u: return i12[w];
    case 13u: return i13[w];
    case 14u: return i14[w];
    case 15u: return i15[w];
    case 16u: return i16[w];
    case 17u: return i17[w];
    case 18u: return i18[w];
    case 19u: return i19[w];
    case 20u: return i20[w];
    case 21u: return i21[w];
    case 22u: return i22[w];
    }
    return i23[w];
}

void storeWord(uint slot, uint w, uint v)
{
    switch (slot)
    {
    case 0u: o0[w] = v; return;
    case 1u: o1[w] = v; return;
    case 2u: o2[w] = v; return;
    }
    o3[w] = v;
}

void main()
{
    uint i = linear_id();
    if (i >= pc.n) return;
    uint r[REGS];
    uint count = prog[0];
    for (uint k = 0u; k < count; k++)
    {
        uint w0 = prog[1u + 2u * k], c = prog[2u + 2u * k];
        uint op = w0 & 0xFFu, d = (w0 >> 8) & 0xFFu, a = (w0 >> 16) & 0xFFu, b = w0 >> 24;
        if (op == LOAD)
        {
            uint mode = b & 3u;
            uint idx = mode == 0u ? i : mode == 1u ? 0u : mode == 2u ? i % c : i / c;
            r[d] = (b & 4u) != 0u ? (loadWord(a, idx >> 2) >> ((idx & 3u) * 8u)) & 0xFFu : loadWord(a, idx);
        }
        else if (op == STORE) storeWord(b, i, r[a]);
        else if (op < 32u) r[d] = unaryF(op, uintBitsToFloat(r[a]));
        else if (op < 64u) r[d] = binaryF(op, uintBitsToFloat(r[a]), uintBitsToFloat(r[b]));
        else if (op == uint(SELECT)) r[d] = r[a] != 0u ? r[b] : r[c];
        else if (op == uint(CONVERT))
            r[d] = c == 1u ? (r[a] != 0u ? 0x3F800000u : 0u) : c == 2u ? fbits(float(int(r[a]))) : c == 3u ? fbits(float(r[a])) : r[a];
    }
}
