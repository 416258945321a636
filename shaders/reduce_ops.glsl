// Reduction operators on raw 32-bit words for the working dtypes DT: 0 float32, 4 int32, 5 uint32
// (narrower dtypes are widened to uint32 first). Kinds: 0 sum, 1 prod, 2 max, 3 min. The including
// shader declares the specialization constant DT. max/min propagate NaN and order -0 below +0.
// Float comparisons are made on bits (common.glsl), so NaN, -0 and subnormals are right on
// drivers that compile float math with fast-math freedoms.

const uint F_NAN = 0x7FC00000u;

uint red_identity(int kind)
{
    if (kind == 0) return DT == 0 ? floatBitsToUint(0.0) : 0u;
    if (kind == 1) return DT == 0 ? floatBitsToUint(1.0) : 1u;
    if (kind == 2) return DT == 0 ? 0xFF800000u : DT == 4 ? 0x80000000u : 0u;
    return DT == 0 ? 0x7F800000u : DT == 4 ? 0x7FFFFFFFu : 0xFFFFFFFFu;
}

// a "greater than" b in the working dtype (not NaN-aware).
bool red_gt(uint a, uint b)
{
    if (DT == 0) return f_ord(a) > f_ord(b);
    if (DT == 4) return int(a) > int(b);
    return a > b;
}

bool red_isnan(uint a) { return DT == 0 && f_isnan(a); }

uint red_combine(int kind, uint a, uint b)
{
    if (kind == 0) return DT == 0 ? floatBitsToUint(uintBitsToFloat(a) + uintBitsToFloat(b)) : a + b;
    if (kind == 1) return DT == 0 ? floatBitsToUint(uintBitsToFloat(a) * uintBitsToFloat(b)) : a * b;
    if (DT == 0)
    {
        if (f_isnan(a) || f_isnan(b)) return F_NAN;
        int x = f_ord(a), y = f_ord(b);
        if (x == y) return kind == 2 ? (a & b) : (a | b);   // ±0: max is +0, min is -0
        return (kind == 2) == (x > y) ? a : b;
    }
    return (kind == 2) == red_gt(a, b) ? a : b;
}

// Arg reductions: does candidate (v, i) beat the current choice (cv, ci)? NaN wins, then the
// larger (isMax) or smaller value, then the smaller index.
bool arg_better(bool isMax, uint v, uint i, uint cv, uint ci)
{
    bool vn = red_isnan(v), cn = red_isnan(cv);
    if (vn || cn) return vn && (!cn || i < ci);
    if (v == cv) return i < ci;
    if (DT == 0 && f_ord(v) == f_ord(cv)) return i < ci;
    return isMax ? red_gt(v, cv) : red_gt(cv, v);
}
