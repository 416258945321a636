#version 450
// Unary, binary and ternary elementwise operations, conversions and iota. One invocation writes
// one 32-bit output word (1, 2 or 4 elements). OP, DT (operand dtype) and ODT (output dtype) are
// specialization constants, so each pipeline compiles only its own case.
#include "common.glsl"
#include "math.glsl"

layout(constant_id = 0) const int OP = 0;
layout(constant_id = 1) const int DT = 0;
layout(constant_id = 2) const int ODT = 0;

layout(std430, binding = 0) writeonly buffer Out { uint o[]; };
layout(std430, binding = 1) readonly buffer InA { uint a[]; };
layout(std430, binding = 2) readonly buffer InB { uint b[]; };
layout(std430, binding = 3) readonly buffer InC { uint c[]; };

layout(push_constant) uniform Push { uint n; uint p0; uint p1; } pc;

const int IES = DT == 6 || DT == 7 ? 1 : (DT == 2 || DT == 3) ? 2 : 4;
const int OES = ODT == 6 || ODT == 7 ? 1 : (ODT == 2 || ODT == 3) ? 2 : 4;
const uint OMASK = OES == 4 ? 0xFFFFFFFFu : OES == 2 ? 0xFFFFu : 0xFFu;
const uint BITS = DT == 6 ? 8u : 32u;        // integer width of the operand dtype

// Op codes (the elementwise registry, Stax/Backends/ElementwiseOps.cs, names them for the backend).
const int NEG = 0, EXP = 1, LOG = 2, LOG1P = 3, EXPM1 = 4, TANH = 5, LOGISTIC = 6, SQRT = 7, RSQRT = 8,
    ABS = 9, SIGN = 10, SIN = 11, COS = 12, ERF = 13, ERFINV = 14, FLOOR = 15, CEIL = 16, ROUND_AWAY = 17,
    ROUND_EVEN = 18, NOT = 19, ISFINITE = 20, ERFC = 21, TAN = 22, ASIN = 23, ACOS = 24, ATAN = 25, SINH = 26,
    COSH = 27, ASINH = 28, ACOSH = 29, ATANH = 30, CBRT = 31;
const int ADD = 32, SUB = 33, MUL = 34, DIV = 35, REM = 36, POW = 37, MAX = 38, MIN = 39, ATAN2 = 40,
    AND = 41, OR = 42, XOR = 43, SHL = 44, SHRL = 45, SHRA = 46, EQ = 47, NE = 48, LT = 49, LE = 50, GT = 51, GE = 52,
    NEXTAFTER = 53;
const int SELECT = 64, CONVERT = 65, IOTA = 66, BITCAST = 67;

bool isFloatDt(int d) { return d == 0 || d == 2 || d == 3; }

float toF(uint bits, int d)
{
    if (d == 0) return uintBitsToFloat(bits);
    if (d == 2) return uintBitsToFloat(f16_to_f32(bits));
    if (d == 3) return uintBitsToFloat(bf16_to_f32(bits));
    if (d == 4) return float(int(bits));
    return float(bits);
}

// Conversion as XLA's CPU computes it (LLVM's fptosi/fptoui on x86-64): float to int32 truncates,
// and NaN, +-Inf and out-of-range values give INT_MIN; float to uint8 keeps the low 8 bits of that;
// float to uint32 keeps the low 32 bits of the truncated value (0 for NaN, +-Inf, |x| >= 2^63).
uint convertBits(uint bits)
{
    if (DT == ODT) return bits;
    if (ODT == 7)
    {
        // On bits: a subnormal (or NaN) is nonzero even where the driver flushes subnormals.
        if (isFloatDt(DT)) return (bits & (DT == 0 ? 0x7FFFFFFFu : 0x7FFFu)) != 0u ? 1u : 0u;
        return bits != 0u ? 1u : 0u;
    }
    if (isFloatDt(ODT))
    {
        // 16-bit float sources convert exactly; float32 sources keep their bits.
        uint u = DT == 0 ? bits : DT == 2 ? f16_to_f32(bits) : DT == 3 ? bf16_to_f32(bits) : floatBitsToUint(toF(bits, DT));
        if (ODT == 0) return u;
        return ODT == 2 ? f32_to_f16(u) : f32_to_bf16(u);
    }
    if (isFloatDt(DT))
    {
        // Range tests on the bits, so that no driver's NaN assumptions can change them.
        uint fb = floatBitsToUint(trunc(toF(bits, DT)));
        uint ab = fb & 0x7FFFFFFFu;
        bool inInt = ab < 0x4F000000u || fb == 0xCF000000u;   // -2^31 <= f < 2^31 (not NaN or inf)
        uint i = inInt ? uint(int(uintBitsToFloat(fb))) : 0x80000000u;
        if (ODT == 4) return i;
        if (ODT == 6) return i & 0xFFu;
        if (inInt) return i;
        if (ab >= 0x5F000000u) return 0u;                      // |f| >= 2^63, inf, NaN
        // 2^31 <= |f| < 2^63 is m * 2^s with a 24-bit m and s >= 8: the low 32 bits of +-(m << s).
        int sh = int(ab >> 23) - 150;
        uint lo = sh >= 32 ? 0u : ((ab & 0x7FFFFFu) | 0x800000u) << uint(sh);
        return (fb & 0x80000000u) != 0u ? 0u - lo : lo;
    }
    // integer to integer: wrap (two's complement bits; int32 already sign-extended in bits)
    return bits & OMASK;
}

uint fbits(float r) { return floatBitsToUint(r); }
uint bbits(bool v) { return v ? 1u : 0u; }

// Sign, magnitude, rounding and classification work on bits (exact for NaN payloads, -0 and
// subnormals); the rest goes through math.glsl, which handles special values explicitly.
uint unaryF(float x)
{
    uint u = floatBitsToUint(x);
    uint sign = u & 0x80000000u, mag = u & 0x7FFFFFFFu;
    bool nan = f_isnan(u), tiny = f_tiny(u);
    switch (OP)
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
    case ERFC: return fbits(m_erfc(x));
    case CBRT: return fbits(m_cbrt(x));
    case TAN: return fbits(m_tan(x));
    case ASIN: return fbits(m_asin(x));
    case ACOS: return fbits(m_acos(x));
    case ATAN: return fbits(m_atan(x));
    case SINH: return fbits(m_sinh(x));
    case COSH: return fbits(m_cosh(x));
    case ASINH: return fbits(m_asinh(x));
    case ACOSH: return fbits(m_acosh(x));
    case ATANH: return fbits(m_atanh(x));
    case FLOOR: return nan ? u | 0x00400000u : !tiny ? fbits(floor(x)) : mag == 0u || sign == 0u ? sign : 0xBF800000u;
    case CEIL: return nan ? u | 0x00400000u : !tiny ? fbits(ceil(x)) : mag == 0u || sign != 0u ? sign : 0x3F800000u;
    case ROUND_AWAY: return nan ? u | 0x00400000u : tiny ? sign : fbits(m_round_away(x));
    case ROUND_EVEN: return nan ? u | 0x00400000u : tiny ? sign : fbits(roundEven(x));
    case ISFINITE: return bbits(f_finite(u));
    }
    return 0u;
}

uint unaryI(uint bits)
{
    int x = int(bits);
    switch (OP)
    {
    case NEG: return uint(-x) & OMASK;
    case ABS: return DT == 4 ? uint(x < 0 ? -x : x) : bits;
    case SIGN: return DT == 4 ? uint(x > 0 ? 1 : x < 0 ? -1 : 0) : (bits != 0u ? 1u : 0u);
    case NOT: return DT == 7 ? (bits ^ 1u) : (~bits) & OMASK;
    }
    return 0u;
}

uint binaryF(float x, float y)
{
    uint ux = floatBitsToUint(x), uy = floatBitsToUint(y);
    // Comparisons, max and min on bits: NaN unordered, -0 == +0, subnormals exact.
    bool unord = f_isnan(ux) || f_isnan(uy);
    int ox = f_ord(ux), oy = f_ord(uy);
    switch (OP)
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
    case NEXTAFTER:
        // On bits: a NaN operand quieted, y where x == y (-0 == +0), the smallest subnormal with y's
        // sign from ±0, else one step of |x|'s pattern toward y.
        if (unord) return (f_isnan(ux) ? ux : uy) | 0x00400000u;
        if (ox == oy) return uy;
        if ((ux & 0x7FFFFFFFu) == 0u) return (uy & 0x80000000u) | 1u;
        return (ox < oy) == ((ux & 0x80000000u) == 0u) ? ux + 1u : ux - 1u;
    case EQ: return bbits(!unord && ox == oy);
    case NE: return bbits(unord || ox != oy);
    case LT: return bbits(!unord && ox < oy);
    case LE: return bbits(!unord && ox <= oy);
    case GT: return bbits(!unord && ox > oy);
    case GE: return bbits(!unord && ox >= oy);
    }
    return 0u;
}

// Integer ops with XLA's edge cases; operands are zero-extended bits (int32 reinterpreted).
uint binaryI(uint ux, uint uy)
{
    bool s = DT == 4;
    int ix = int(ux), iy = int(uy);
    switch (OP)
    {
    case ADD: return (ux + uy) & OMASK;
    case SUB: return (ux - uy) & OMASK;
    case MUL: return (ux * uy) & OMASK;
    case DIV:
        if (uy == 0u) return OMASK;                                   // -1 / all ones
        if (s) return (ix == int(0x80000000u) && iy == -1) ? ux : uint(ix / iy);
        return ux / uy;
    case REM:
        if (uy == 0u) return ux;
        if (s) { if (iy == -1) return 0u; int q = ix / iy; return uint(ix - q * iy); }
        return ux % uy;
    case MAX: return s ? uint(max(ix, iy)) : max(ux, uy);
    case MIN: return s ? uint(min(ix, iy)) : min(ux, uy);
    case AND: return ux & uy;
    case OR: return ux | uy;
    case XOR: return ux ^ uy;
    case SHL: return uy >= BITS ? 0u : (ux << uy) & OMASK;            // negative counts are huge unsigned
    case SHRL: return uy >= BITS ? 0u : ux >> uy;
    case SHRA:
        if (DT == 6) { int sx = int(ux << 24) >> 24; return uint(uy >= 8u ? (sx < 0 ? -1 : 0) : sx >> int(uy)) & 0xFFu; }
        if (DT == 5) return uy >= 32u ? (int(ux) < 0 ? 0xFFFFFFFFu : 0u) : uint(int(ux) >> int(uy));
        return uint(uy >= 32u ? (ix < 0 ? -1 : 0) : ix >> int(uy));
    case EQ: return bbits(ux == uy);
    case NE: return bbits(ux != uy);
    case LT: return bbits(s ? ix < iy : ux < uy);
    case LE: return bbits(s ? ix <= iy : ux <= uy);
    case GT: return bbits(s ? ix > iy : ux > uy);
    case GE: return bbits(s ? ix >= iy : ux >= uy);
    }
    return 0u;
}

uint element(uint i)
{
    if (OP == IOTA)
    {
        uint v = (i / pc.p1) % pc.p0;
        if (ODT == 0) return floatBitsToUint(float(v));
        if (ODT == 2) return f32_to_f16(floatBitsToUint(float(v)));
        if (ODT == 3) return f32_to_bf16(floatBitsToUint(float(v)));
        return v & OMASK;
    }
    uint x = LOAD_BITS(a, IES, i);
    if (OP == CONVERT) return convertBits(x);
    if (OP == BITCAST) return x;
    if (OP == SELECT)
    {
        // a: bool predicate; b, c: values of dtype DT (== ODT)
        uint p = LOAD_BITS(a, 1, i);
        return p != 0u ? LOAD_BITS(b, OES, i) : LOAD_BITS(c, OES, i);
    }
    if (OP < 32)
        return isFloatDt(DT) ? unaryF(uintBitsToFloat(x)) : unaryI(x);
    uint y = LOAD_BITS(b, IES, i);
    return isFloatDt(DT) ? binaryF(uintBitsToFloat(x), uintBitsToFloat(y)) : binaryI(x, y);
}

void main()
{
    uint w = linear_id();
    const uint EPW = uint(4 / OES);
    uint first = w * EPW;
    if (first >= pc.n) return;
    uint word = 0u;
    [[unroll]] for (uint k = 0u; k < EPW; k++)
    {
        uint i = first + k;
        if (i < pc.n) word |= (element(i) & OMASK) << (k * uint(OES) * 8u);
    }
    o[w] = word;
}
