// float32 functions matching Stax's CPU kernels (Backends/Cpu/Simd/MathF32.cs): the same
// polynomials, evaluated in the same order; `precise` forbids FMA contraction.
// Correct on every conformant driver, with or without float controls: NaN, infinities and signed
// zeros are recognised on bits (common.glsl) and answered explicitly; inputs and results that are
// subnormal are normalised / rounded on bits (f_frexp, f_ldexp), so the float arithmetic in between
// only sees normal numbers and a driver that flushes subnormals cannot change the result.
#define INF uintBitsToFloat(0x7F800000u)
#define NEG_INF uintBitsToFloat(0xFF800000u)
#define NAN uintBitsToFloat(0x7FC00000u)

float copysign_(float mag, float s) { return uintBitsToFloat((floatBitsToUint(mag) & 0x7FFFFFFFu) | (floatBitsToUint(s) & 0x80000000u)); }
// A NaN operand, quieted with its payload kept (what x86 arithmetic returns).
float quiet_(float x) { return uintBitsToFloat(floatBitsToUint(x) | 0x00400000u); }
bool isnan_(float x) { return f_isnan(floatBitsToUint(x)); }
bool tiny_(float x) { return f_tiny(floatBitsToUint(x)); }
float abs_(float x) { return uintBitsToFloat(floatBitsToUint(x) & 0x7FFFFFFFu); }

// |x| = m * 2^e with m in [1, 2), for finite nonzero x; subnormals are normalised on bits.
float f_frexp(float x, out int e)
{
    uint a = floatBitsToUint(x) & 0x7FFFFFFFu;
    int be = int(a >> 23);
    uint man = a & 0x7FFFFFu;
    if (be == 0) { int p = findMSB(man); man = (man << uint(23 - p)) & 0x7FFFFFu; be = p - 22; }
    e = be - 127;
    return uintBitsToFloat(0x3F800000u | man);
}

// Bits of v * 2^e (v finite), rounded once to nearest even on bits, so subnormal results are exact
// without denormal support; overflow gives infinity. `above` says where the value v stands for lies
// against |v| (> 0 above, < 0 below, 0: v is exact) and breaks ties of that rounding.
uint f_ldexp(float v, int e, int above)
{
    uint u = floatBitsToUint(v);
    uint s = u & 0x80000000u, a = u & 0x7FFFFFFFu;
    if (a == 0u) return s;
    int be = int(a >> 23);
    uint m = a & 0x7FFFFFu;
    if (be == 0) { int p = findMSB(m); m = (m << uint(23 - p)) & 0x7FFFFFu; be = p - 22; }
    be += e;
    if (be >= 255) return s | 0x7F800000u;
    if (be >= 1) return s | (uint(be) << 23) | m;
    int sh = 1 - be;                                   // subnormal: drop sh bits of the 24-bit significand
    if (sh > 24) return s;
    m |= 0x800000u;
    uint q = m >> uint(sh), rem = m & ((1u << uint(sh)) - 1u), half_ = 1u << uint(sh - 1);
    if (rem > half_ || (rem == half_ && (above > 0 || (above == 0 && (q & 1u) != 0u)))) q++;
    return s | q;
}

// Veltkamp split and Dekker product: a * b = p + e exactly (no FMA needed) for normal a, b.
void two_prod(float a, float b, out float p, out float e)
{
    precise float pp = a * b;
    precise float ca = 4097.0 * a; precise float ah = ca - (ca - a); precise float al = a - ah;
    precise float cb = 4097.0 * b; precise float bh = cb - (cb - b); precise float bl = b - bh;
    precise float ee = ((ah * bh - pp) + ah * bl + al * bh) + al * bl;
    p = pp; e = ee;
}

// c * x for a normal constant c and a ±0 or subnormal x, rounded once (as IEEE would).
float f_mul_tiny(float c, float x)
{
    uint u = floatBitsToUint(x);
    uint s = (u ^ floatBitsToUint(c)) & 0x80000000u;
    if ((u & 0x7FFFFFFFu) == 0u) return uintBitsToFloat(s);
    int e;
    float m = f_frexp(x, e);
    float p, err;
    two_prod(abs_(c), m, p, err);
    return uintBitsToFloat(s | f_ldexp(p, e, err > 0.0 ? 1 : err < 0.0 ? -1 : 0));
}

// IEEE division. Special operands are answered on bits (x / 0 = ±inf, 0 / 0 = NaN, x / inf = ±0);
// finite quotients divide the significands (in [1, 2): no operand is subnormal or huge, where a
// driver's division may flush or lose range), then the quotient is rounded correctly whatever the
// driver's division accuracy: the exact remainder (Dekker's product, no FMA needed) says whether
// a neighbour is nearer, and its sign breaks ties when the result is scaled back on bits.
float m_div(float x, float y)
{
    uint ux = floatBitsToUint(x), uy = floatBitsToUint(y);
    uint ax = ux & 0x7FFFFFFFu, ay = uy & 0x7FFFFFFFu;
    uint s = (ux ^ uy) & 0x80000000u;
    if (ax > 0x7F800000u) return quiet_(x);
    if (ay > 0x7F800000u) return quiet_(y);
    if (ax == 0x7F800000u) return ay == 0x7F800000u ? NAN : uintBitsToFloat(s | 0x7F800000u);
    if (ay == 0x7F800000u) return uintBitsToFloat(s);
    if (ay == 0u) return ax == 0u ? NAN : uintBitsToFloat(s | 0x7F800000u);
    if (ax == 0u) return uintBitsToFloat(s);
    int ex, ey;
    precise float mx = f_frexp(x, ex);
    precise float my = f_frexp(y, ey);
    // A first quotient within a couple of ulp, as fast-math drivers compute it (so the correction
    // below runs, and is tested, on every driver).
    precise float q = mx * (1.0 / my);
    precise float r = 0.0;
    for (int i = 0; i < 4; i++)
    {
        float p, e;
        two_prod(q, my, p, e);
        precise float rr = (mx - p) - e;               // exact: mx - q * my
        r = rr;
        if (i == 3) break;
        uint qb = floatBitsToUint(q);
        precise float up = uintBitsToFloat(qb + 1u);
        precise float dn = uintBitsToFloat(qb - 1u);
        precise float hu = (up - q) * 0.5;
        precise float hd = (q - dn) * 0.5;
        precise float mu = my * hu;
        precise float md = my * hd;
        if (r > mu) q = up;                            // mx / my - q > half the gap above
        else if (-r > md) q = dn;
        else break;
    }
    return uintBitsToFloat(s | f_ldexp(q, ex - ey, r > 0.0 ? 1 : r < 0.0 ? -1 : 0));
}

// Square root: subnormal inputs are normalised on bits (sqrt of one is a normal number).
float m_sqrt(float x)
{
    uint u = floatBitsToUint(x);
    if (f_isnan(u)) return quiet_(x);
    if ((u & 0x7FFFFFFFu) == 0u || u == 0x7F800000u) return x;
    if ((u & 0x80000000u) != 0u) return NAN;
    if (!f_tiny(u)) return sqrt(x);
    int e;
    precise float m = f_frexp(x, e);
    if ((e & 1) != 0) m = m * 2.0;
    return uintBitsToFloat(f_ldexp(sqrt(m), e >> 1, 0));
}

// exp(x) = y * 2^k with y in [0.7, 1.42], for x not NaN (clamped so k stays in [-151, 129]).
float m_exp_parts(float xin, out int k)
{
    precise float x = xin;
    if (x > 89.0) x = 89.0;
    if (x < -104.5) x = -104.5;
    precise float kf = (x * 1.44269504 + 12582912.0) - 12582912.0;
    precise float r = (x - kf * 0.693359375) - kf * -2.12194440e-4;
    precise float p = 1.9875691500e-4;
    p = p * r + 1.3981999507e-3;
    p = p * r + 8.3334519073e-3;
    p = p * r + 4.1665795894e-2;
    p = p * r + 1.6666665459e-1;
    p = p * r + 5.0000001201e-1;
    precise float y = (p * (r * r) + r) + 1.0;
    k = int(kf);
    return y;
}

// The CPU scales by 2^k in two exact steps (one rounding for subnormal results); f_ldexp rounds once too.
float m_exp(float x)
{
    if (isnan_(x)) return quiet_(x);
    int k;
    float y = m_exp_parts(x, k);
    return uintBitsToFloat(f_ldexp(y, k, 0));
}

float m_log(float x)
{
    uint u = floatBitsToUint(x);
    if (f_isnan(u)) return quiet_(x);
    if ((u & 0x7FFFFFFFu) == 0u) return NEG_INF;
    if ((u & 0x80000000u) != 0u) return NAN;
    if (u == 0x7F800000u) return INF;
    int ei;
    precise float m = f_frexp(x, ei);                 // subnormals too (the CPU scales them by 2^23)
    precise float e = float(ei);
    bool big = m > 1.41421356;
    if (big) { m = m * 0.5; e = e + 1.0; }
    precise float f = m - 1.0;
    precise float z = f * f;
    precise float y = 7.0376836292e-2;
    y = y * f - 1.1514610310e-1;
    y = y * f + 1.1676998740e-1;
    y = y * f - 1.2420140846e-1;
    y = y * f + 1.4249322787e-1;
    y = y * f - 1.6668057665e-1;
    y = y * f + 2.0000714765e-1;
    y = y * f - 2.4999993993e-1;
    y = y * f + 3.3333331174e-1;
    y = y * f * z;
    y = y + e * -2.12194440e-4;
    y = y - 0.5 * z;
    precise float r = f + y;
    r = r + e * 0.693359375;
    return r;
}

float m_log1p(float x)
{
    uint ux = floatBitsToUint(x);
    if (f_isnan(ux)) return quiet_(x);
    if (f_tiny(ux) || ux == 0x7F800000u) return x;   // log1p(x) = x below 2^-126 (keeps -0)
    precise float u = x + 1.0;
    precise float d = u - 1.0;
    if (d == 0.0) return x;
    // log(u) * x / (u - 1) corrects the rounding of u; m_div keeps x / d = 1 for huge x.
    precise float r = m_log(u) * m_div(x, d);
    return r;
}

float m_expm1(float x)
{
    if (isnan_(x)) return quiet_(x);
    if (tiny_(x)) return x;
    precise float q = 2.75573192e-6;
    q = q * x + 2.48015873e-5;
    q = q * x + 1.98412698e-4;
    q = q * x + 1.38888889e-3;
    q = q * x + 8.33333333e-3;
    q = q * x + 4.16666667e-2;
    q = q * x + 1.66666667e-1;
    q = q * x + 0.5;
    precise float small_ = q * (x * x) + x;
    precise float big = m_exp(x) - 1.0;
    precise float r = abs_(x) < 0.5 ? small_ : big;
    return r;
}

float m_tanh(float x)
{
    if (isnan_(x)) return quiet_(x);
    if (tiny_(x)) return x;
    precise float a = abs_(x);
    precise float z = x * x;
    precise float s = -5.70498872745e-3;
    s = s * z + 2.06390887954e-2;
    s = s * z - 5.37397155531e-2;
    s = s * z + 1.33314422036e-1;
    s = s * z - 3.33332819422e-1;
    precise float small_ = s * z * x + x;
    precise float e = m_exp(a + a);
    precise float big = copysign_(1.0 - 2.0 / (e + 1.0), x);
    precise float r = a < 0.625 ? small_ : big;
    return r;
}

float m_logistic(float x)
{
    uint u = floatBitsToUint(x);
    if (f_isnan(u)) return quiet_(x);
    precise float t = m_exp(uintBitsToFloat(u | 0x80000000u));   // exp(-|x|), subnormal for x < -87.3
    precise float d = 1.0 + t;
    // The CPU tests x >= 0; -0 and +0 give the same 0.5 either way.
    return m_div((u & 0x80000000u) == 0u ? 1.0 : t, d);
}

// Bits of 2/pi after the binary point, preceded by two zero words (Payne-Hanek reduction).
const uint TWO_OVER_PI[10] = uint[10](0u, 0u, 0xA2F9836Eu, 0x4E441529u, 0xFC2757D1u, 0xF534DDC0u,
    0xDB629599u, 0x3C439041u, 0xFE5163ABu, 0xDEBBC561u);

// |x| > 8192, finite: x = q * pi/2 + r with |r| <= pi/4, exactly as far as float32 needs.
void reduce_large(float x, out float q, out float r)
{
    uint bits = floatBitsToUint(abs(x));
    int e = int(bits >> 23) - 150;                 // |x| = m * 2^e
    uint m = (bits & 0x7FFFFFu) | 0x800000u;
    int B = e + 62;                                // window of 96 bits of 2/pi starting at bit e-1
    int idx = B >> 5; uint sh = uint(B & 31);
    uint w[3];
    [[unroll]] for (int i = 0; i < 3; i++)
        w[i] = sh == 0u ? TWO_OVER_PI[idx + i] : (TWO_OVER_PI[idx + i] << sh) | (TWO_OVER_PI[idx + i + 1] >> (32u - sh));
    uint h0, l0, h1, l1, h2, l2;
    umulExtended(m, w[0], h0, l0);
    umulExtended(m, w[1], h1, l1);
    umulExtended(m, w[2], h2, l2);
    uint c1, c2, c3;
    uint p1 = uaddCarry(h2, l1, c1);
    uint t2 = uaddCarry(h1, l0, c2);
    uint p2 = uaddCarry(t2, c1, c3);
    uint p0 = l2;
    uint quadrant = p2 >> 30;                      // bits 94, 95 of the product
    uint F = (p2 << 2) | (p1 >> 30);               // fraction bits, top 64
    uint G = (p1 << 2) | (p0 >> 30);
    float sgn = 1.0;
    if ((F & 0x80000000u) != 0u)
    {
        quadrant += 1u;
        // negate the 64-bit fraction (f - 1 < 0)
        G = ~G + 1u;
        F = ~F + (G == 0u ? 1u : 0u);
        sgn = -1.0;
    }
    precise float f = float(F) * 2.3283064365386963e-10 + float(G) * 5.421010862427522e-20;
    precise float rr = sgn * (f * 1.5707963705062866 + f * -4.371139000186243e-8);
    quadrant &= 3u;
    if (x < 0.0) { rr = -rr; quadrant = (4u - quadrant) & 3u; }
    q = float(quadrant);
    r = rr;
}

float m_sincos(float x, float quadrantOffset, bool isCos)
{
    if (!f_finite(floatBitsToUint(x))) return NAN;
    precise float k;
    precise float r;
    if (abs(x) <= 8192.0)
    {
        k = (x * 0.636619772 + 12582912.0) - 12582912.0;
        r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8;
    }
    else reduce_large(x, k, r);
    precise float z = r * r;
    precise float t = -1.9515295891e-4;
    t = t * z + 8.3321608736e-3;
    t = t * z - 1.6666654611e-1;
    precise float s = t * z * r + r;
    precise float u = 2.443315711809948e-5;
    u = u * z - 1.388731625493765e-3;
    u = u * z + 4.166664568298827e-2;
    precise float c = (u * z * z - 0.5 * z) + 1.0;
    precise float q = k + quadrantOffset;
    q = q - 4.0 * floor(q * 0.25);
    bool useCos = q == 1.0 || q == 3.0;
    precise float res = useCos ? c : s;
    if (q >= 2.0) res = -res;
    return res;
}

float m_sin(float x) { return tiny_(x) ? x : m_sincos(x, 0.0, false); }
float m_cos(float x) { return m_sincos(x, 1.0, true); }

// The Chebyshev fit shared by m_erf and m_erfc: erfc(a) = t e^(p(t) - a^2), t = 1/(1 + a/2).
float erfc_fit(float t)
{
    precise float p = 0.17087277;
    p = p * t - 0.82215223;
    p = p * t + 1.48851587;
    p = p * t - 1.13520398;
    p = p * t + 0.27886807;
    p = p * t - 0.18628806;
    p = p * t + 0.09678418;
    p = p * t + 0.37409196;
    p = p * t + 1.00002368;
    p = p * t - 1.26551223;
    return p;
}

float m_erf(float x)
{
    if (isnan_(x)) return quiet_(x);
    if (tiny_(x)) return f_mul_tiny(1.12837917, x);    // the series' first term (s == 1)
    precise float a = abs_(x);
    precise float z = x * x;
    precise float s = -1.0892221e-9;
    s = s * z + 1.3122532e-8;
    s = s * z - 1.4503853e-7;
    s = s * z + 1.4589169e-6;
    s = s * z - 1.3227513e-5;
    s = s * z + 1.0683761e-4;
    s = s * z - 7.5757576e-4;
    s = s * z + 4.6296296e-3;
    s = s * z - 2.3809524e-2;
    s = s * z + 0.1;
    s = s * z - 0.33333333;
    s = s * z + 1.0;
    precise float small_ = x * (s * 1.12837917);
    precise float t = 1.0 / (1.0 + 0.5 * a);
    precise float p = erfc_fit(t);
    precise float erfc_ = t * m_exp(p - a * a);
    precise float big = copysign_(1.0 - erfc_, x);
    return a < 0.75 ? small_ : big;
}

// erfc as MathF32.Erfc: 1 - erf for |x| < 0.5; beyond, t e^(p - x^2) with e^(-x^2) split as
// e^(-h^2) e^(-(|x|-h)(|x|+h)), h^2 exact. Both exponentials are kept as y 2^k and the product
// is scaled once on bits, so a driver that flushes subnormals cannot flush the tail.
float m_erfc(float x)
{
    uint u = floatBitsToUint(x);
    if (f_isnan(u)) return quiet_(x);
    precise float a = abs_(x);
    if (a < 0.5) { precise float r = 1.0 - m_erf(x); return r; }
    bool neg = (u & 0x80000000u) != 0u;
    if (a > 10.5) return neg ? 2.0 : 0.0;
    precise float t = 1.0 / (1.0 + 0.5 * a);
    precise float p = erfc_fit(t);
    precise float h = uintBitsToFloat(floatBitsToUint(a) & 0xFFFFF000u);
    int k1, k2;
    precise float y1 = m_exp_parts(p - (a - h) * (a + h), k1);
    precise float y2 = m_exp_parts(-(h * h), k2);
    precise float ty = t * y1;
    precise float m = ty * y2;
    precise float tail = uintBitsToFloat(f_ldexp(m, k1 + k2, 0));
    if (!neg) return tail;
    precise float r = 2.0 - tail;
    return r;
}

// Giles' single-precision erf_inv, as XLA uses it.
float m_erfinv(float x)
{
    uint u = floatBitsToUint(x);
    if (f_isnan(u)) return quiet_(x);
    if ((u & 0x7FFFFFFFu) == 0x3F800000u) return copysign_(INF, x);
    if ((u & 0x7FFFFFFFu) > 0x3F800000u) return NAN;
    // XLA's order: w = -log1p(-x*x), one Horner loop over the branch's coefficients with fused
    // steps (XLA:CPU fuses c + p*w), then p*x.
    precise float xx = x * x;
    precise float w = -m_log1p(-xx);
    bool lt = w < 5.0;
    precise float ww = lt ? w - 2.5 : sqrt(w) - 3.0;
    precise float p = lt ? 2.81022636e-08 : -0.000200214257;
    p = fma(p, ww, lt ? 3.43273939e-07 : 0.000100950558);
    p = fma(p, ww, lt ? -3.5233877e-06 : 0.00134934322);
    p = fma(p, ww, lt ? -4.39150654e-06 : -0.00367342844);
    p = fma(p, ww, lt ? 0.00021858087 : 0.00573950773);
    p = fma(p, ww, lt ? -0.00125372503 : -0.0076224613);
    p = fma(p, ww, lt ? -0.00417768164 : 0.00943887047);
    p = fma(p, ww, lt ? 0.246640727 : 1.00167406);
    p = fma(p, ww, lt ? 1.50140941 : 2.83297682);
    precise float r = p * x;
    return f_tiny(u) ? f_mul_tiny(p, x) : r;          // tiny x: w = 0, the product rounded on bits
}

float m_atan2(float num, float den)
{
    uint un = floatBitsToUint(num), ud = floatBitsToUint(den);
    if (f_isnan(un) || f_isnan(ud)) return NAN;
    uint an = un & 0x7FFFFFFFu, ad = ud & 0x7FFFFFFFu;
    precise float a = uintBitsToFloat(an);
    precise float b = uintBitsToFloat(ad);
    bool gt = an > ad;                                 // magnitudes order like their bits
    precise float t;
    if (an == 0u && ad == 0u) t = 0.0;
    else if (an == 0x7F800000u && ad == 0x7F800000u) t = 1.0;
    else t = gt ? m_div(b, a) : m_div(a, b);
    // Below 2^-14 the polynomial adds under half an ulp: atan2 = t, which may be subnormal.
    if (!gt && (ud & 0x80000000u) == 0u && floatBitsToUint(t) < 0x38800000u) return uintBitsToFloat((un & 0x80000000u) | floatBitsToUint(t));
    bool red = t > 0.414213562;
    precise float tt = red ? (t - 1.0) / (t + 1.0) : t;
    precise float z = tt * tt;
    precise float p = 8.05374449538e-2;
    p = p * z - 1.38776856032e-1;
    p = p * z + 1.99777106478e-1;
    p = p * z - 3.33329491539e-1;
    precise float r = (red ? 0.785398163 : 0.0) + (p * z * tt + tt);
    if (gt) r = 1.57079633 - r;
    if ((ud & 0x80000000u) != 0u) r = 3.14159265 - r;
    return copysign_(r, num);
}

float m_round_away(float x)
{
    precise float a = abs(x);
    precise float f = floor(a);
    if (a - f >= 0.5) f = f + 1.0;
    return copysign_(f, x);
}

// Exact C fmod (bitwise long division, like fdlibm's fmodf).
float m_fmod(float x, float y)
{
    uint ux = floatBitsToUint(x), uy = floatBitsToUint(y);
    uint sx = ux & 0x80000000u;
    uint ax = ux & 0x7FFFFFFFu, ay = uy & 0x7FFFFFFFu;
    if (ay == 0u || ax >= 0x7F800000u || ay > 0x7F800000u) return NAN;
    if (ax < ay) return x;
    int ex = int(ax >> 23), ey = int(ay >> 23);
    uint mx = ax & 0x7FFFFFu, my = ay & 0x7FFFFFu;
    if (ex == 0) { ex = 1; while (mx < 0x800000u) { mx <<= 1; ex--; } } else mx |= 0x800000u;
    if (ey == 0) { ey = 1; while (my < 0x800000u) { my <<= 1; ey--; } } else my |= 0x800000u;
    for (; ex > ey; ex--)
    {
        if (mx >= my) mx -= my;
        mx <<= 1;
    }
    if (mx >= my) mx -= my;
    if (mx == 0u) return uintBitsToFloat(sx);
    while (mx < 0x800000u) { mx <<= 1; ex--; }
    uint bits = ex > 0 ? ((mx - 0x800000u) | (uint(ex) << 23)) : (mx >> uint(1 - ex));
    return uintBitsToFloat(bits | sx);
}

// x^y = exp(y log x) with log x corrected by one Newton step on exp, and y*log x kept in two parts.
// exp is kept as y * 2^k until the end, so tiny results (subnormal) are rounded once on bits.
float m_pow(float x, float y)
{
    uint ux = floatBitsToUint(x), uy = floatBitsToUint(y);
    uint axb = ux & 0x7FFFFFFFu, ayb = uy & 0x7FFFFFFFu;
    if (ayb == 0u || ux == 0x3F800000u) return 1.0;
    if (f_isnan(ux) || f_isnan(uy)) return NAN;
    bool ypos = (uy & 0x80000000u) == 0u;
    if (ayb == 0x7F800000u)
    {
        if (axb == 0x3F800000u) return 1.0;
        return (axb > 0x3F800000u) == ypos ? INF : 0.0;
    }
    // |y| >= 2^23 is an integer; a subnormal y is not (floor would see it flushed to 0).
    bool yInt = ayb >= 0x4B000000u || (!f_tiny(uy) && floor(y) == y);
    bool yOdd = yInt && ayb < 0x4B800000u && (int(abs_(y)) & 1) == 1;
    uint sgn = (ux & 0x80000000u) != 0u && yOdd ? 0x80000000u : 0u;
    if (axb == 0u) return uintBitsToFloat(sgn | (ypos ? 0u : 0x7F800000u));
    if (axb == 0x7F800000u) return uintBitsToFloat(sgn | (ypos ? 0x7F800000u : 0u));
    if ((ux & 0x80000000u) != 0u && !yInt) return NAN;
    if (axb == 0x3F800000u) return uintBitsToFloat(sgn | 0x3F800000u);   // (-1)^integer; y*log|x| = 0 even for huge y
    float ax = uintBitsToFloat(axb);
    precise float l = m_log(ax);
    int ke;
    precise float ye = m_exp_parts(l, ke);           // exp(l) = ye * 2^ke
    int ex;
    float mx = f_frexp(ax, ex);
    precise float axs = uintBitsToFloat(f_ldexp(mx, ex - ke, 0));   // ax * 2^-ke, near ye
    precise float delta = (axs - ye) / ye;           // log ax ~= l + delta
    float t, e;
    two_prod(y, l, t, e);                            // |y| > 2^100 overflows the split, but then |t| > 104:
    precise float corr = e + y * delta;              // both answers below are taken before corr is used
    if (t > 88.8) return uintBitsToFloat(sgn | 0x7F800000u);
    if (t < -104.0) return uintBitsToFloat(sgn);
    int kr;
    precise float yr = m_exp_parts(t, kr);
    precise float res = yr + yr * corr;
    return uintBitsToFloat(sgn | f_ldexp(res, kr, 0));
}

// tan, inverse trigonometric and hyperbolic functions as MathF32.TrigHyperbolic.cs, step by step.
float m_tan(float x)
{
    if (isnan_(x)) return quiet_(x);
    if (tiny_(x)) return x;
    return m_div(m_sin(x), m_cos(x));
}

float m_atan(float x) { return m_atan2(x, 1.0); }

float m_asin(float x)
{
    if (isnan_(x)) return quiet_(x);
    if (abs_(x) > 1.0) return NAN;
    precise float w = (1.0 - x) * (1.0 + x);
    return m_atan2(x, m_sqrt(w));
}

float m_acos(float x)
{
    if (isnan_(x)) return quiet_(x);
    if (abs_(x) > 1.0) return NAN;
    precise float w = (1.0 - x) * (1.0 + x);
    return m_atan2(m_sqrt(w), x);
}

float m_sinh(float x)
{
    if (isnan_(x)) return quiet_(x);
    if (tiny_(x)) return x;
    precise float a = abs_(x);
    if (a < 1.0)
    {
        precise float z = x * x;
        precise float r = ((2.03721912945e-4 * z + 8.33028376239e-3) * z + 1.66667160211e-1) * z * x + x;
        return r;
    }
    precise float e = m_exp(a * 0.5);
    precise float s = (e * 0.5) * e;
    precise float r = s - m_div(0.25, s);
    return copysign_(r, x);
}

float m_cosh(float x)
{
    if (isnan_(x)) return quiet_(x);
    precise float e = m_exp(abs_(x) * 0.5);
    precise float s = (e * 0.5) * e;
    precise float r = s + m_div(0.25, s);
    return r;
}

float m_asinh(float x)
{
    if (isnan_(x)) return quiet_(x);
    if (tiny_(x)) return x;
    precise float a = abs_(x);
    if (a > 4096.0) { precise float b = m_log(a) + 0.693147181; return copysign_(b, x); }
    precise float a2 = a * a;
    precise float r = m_log1p(a + m_div(a2, 1.0 + m_sqrt(1.0 + a2)));
    return copysign_(r, x);
}

float m_acosh(float x)
{
    if (isnan_(x)) return quiet_(x);
    if (x < 1.0) return NAN;
    if (x > 4096.0) { precise float b = m_log(x) + 0.693147181; return b; }
    precise float t = x - 1.0;
    return m_log1p(t + m_sqrt(t * (t + 2.0)));
}

float m_atanh(float x)
{
    if (isnan_(x)) return quiet_(x);
    if (tiny_(x)) return x;
    precise float a = abs_(x);
    precise float r = m_log1p(m_div(a + a, 1.0 - a)) * 0.5;
    return copysign_(r, x);
}

// Cube root as MathF32.Cbrt: |x| = m 2^e on bits (subnormals normalised), e = 3q + r, three Newton
// steps on z = m 2^r in [1, 8) with correctly rounded divisions, then 2^q on bits.
float m_cbrt(float x)
{
    uint u = floatBitsToUint(x);
    uint a = u & 0x7FFFFFFFu;
    if (a == 0u || a >= 0x7F800000u) return f_isnan(u) ? quiet_(x) : x;
    int e;
    precise float m = f_frexp(x, e);
    precise float ef = float(e);
    precise float q = floor((ef + 0.5) * 0.333333343);
    precise float r = ef - 3.0 * q;
    precise float z = m * (r == 1.0 ? 2.0 : r == 2.0 ? 4.0 : 1.0);
    precise float y = (0.74 + 0.26 * m) * (r == 1.0 ? 1.25992105 : r == 2.0 ? 1.58740105 : 1.0);
    for (int i = 0; i < 3; i++)
    {
        precise float yy = y * y;
        precise float d = y - m_div(z, yy);
        y = y - d * 0.333333343;
    }
    return copysign_(uintBitsToFloat(f_ldexp(y, int(q), 0)), x);
}
