// Implicit-GEMM convolution operand shared by gemm.glsl and gemm_tiled.glsl: the geometry buffer,
// output positions, kernel taps and the im2col element at (tap, position). The including file
// declares the buffers a (A) and b (B) and the specialization constants CONV (1: B is the im2col
// operand, 2: A is), CONV_S (spatial rank 1..3), CONV_LDIL (some lhs dilation exceeds 1), CONV_CHECK
// (some tap can fall outside the input) and CONV_KORD (k order: 0 channel outer / taps inner, 1 taps
// outer / channel inner).
// Convolution geometry (CONV != 0): 0 Cg (input channels per group), 1 KS (taps), 2 unused,
// 3 P (output positions per image), 4/5 input batch/channel strides, 6/7 output batch/feature
// strides, 8 input offset per group (z); per spatial dim d at 10 + 9d: input size, output size,
// kernel size, stride, low padding, lhs dilation, rhs dilation, input stride, output stride.
layout(std430, binding = 3) readonly buffer Geo { int geo[]; };

// Geometry, loaded once per invocation.
int gCg, gKS, gP, gXN, gXC, gON, gOC;
int gIn[3], gOut[3], gK[3], gStr[3], gPad[3], gLd[3], gRd[3], gXs[3], gOs[3];

void loadGeometry()
{
    gCg = geo[0]; gKS = geo[1]; gP = geo[3];
    gXN = geo[4]; gXC = geo[5]; gON = geo[6]; gOC = geo[7];
    [[unroll]] for (int d = 0; d < 3; d++)
    {
        int o = 10 + 9 * d;
        gIn[d] = geo[o]; gOut[d] = geo[o + 1]; gK[d] = geo[o + 2]; gStr[d] = geo[o + 3]; gPad[d] = geo[o + 4];
        gLd[d] = geo[o + 5]; gRd[d] = geo[o + 6]; gXs[d] = geo[o + 7]; gOs[d] = geo[o + 8];
    }
}

// An output position: input base offset (image, plus the window origin when CONV_LDIL == 0),
// output offset, and the window origin in (lhs-dilated) input coordinates per spatial dim.
struct Pos { int x; int o; int lo[3]; };

Pos position(int j, int xGroup)
{
    Pos p;
    int n = j / gP, r = j - n * gP;
    p.x = xGroup + n * gXN;
    p.o = n * gON;
    p.lo[0] = 0; p.lo[1] = 0; p.lo[2] = 0;
    [[unroll]] for (int d = 2; d >= 0; d--)
        if (d < CONV_S)
        {
            int od = r % gOut[d]; r /= gOut[d];
            p.o += od * gOs[d];
            p.lo[d] = od * gStr[d] - gPad[d];
            if (CONV_LDIL == 0) p.x += p.lo[d] * gXs[d];
        }
    return p;
}

// A kernel tap: input channel, kernel index per spatial dim, and the derived offsets
// kr = kd * rhs dilation and kx (input offset of the tap relative to a position's base).
struct Tap { int ch; int kd[3]; int kr[3]; int kx; };

void tapOffsets(inout Tap t)
{
    t.kx = t.ch * gXC;
    [[unroll]] for (int d = 0; d < 3; d++)
    {
        t.kr[d] = d < CONV_S ? t.kd[d] * gRd[d] : 0;
        if (CONV_LDIL == 0 && d < CONV_S) t.kx += t.kr[d] * gXs[d];
    }
}

Tap tapAt(int k)
{
    Tap t;
    int kpos;
    if (CONV_KORD == 0) { t.ch = k / gKS; kpos = k - t.ch * gKS; }
    else { kpos = k / gCg; t.ch = k - kpos * gCg; }
    t.kd[0] = 0; t.kd[1] = 0; t.kd[2] = 0;
    [[unroll]] for (int d = 2; d >= 0; d--)
        if (d < CONV_S) { t.kd[d] = kpos % gK[d]; kpos /= gK[d]; }
    tapOffsets(t);
    return t;
}

// Advances to tap k + 1 (no divisions).
void nextTap(inout Tap t)
{
    bool carry = true;
    if (CONV_KORD != 0) { t.ch++; carry = t.ch == gCg; if (carry) t.ch = 0; }
    [[unroll]] for (int d = 2; d >= 0; d--)
        if (d < CONV_S && carry)
        {
            t.kd[d]++;
            carry = t.kd[d] == gK[d];
            if (carry) t.kd[d] = 0;
        }
    if (CONV_KORD == 0 && carry) t.ch++;
    tapOffsets(t);
}

T inputAt(int i) { return CONV == 1 ? b[i] : a[i]; }

// Element (tap, position) of the implicit im2col matrix. (No continue, break or return inside the
// loops of these helpers: optimizers unroll loops only without them, and the tiled kernel needs its
// register tile's loops around them unrolled.)
T convLoad(Pos p, Tap t)
{
    bool inside = true;
    int idx = p.x + t.kx;
    if (CONV_LDIL == 0)
    {
        if (CONV_CHECK != 0)
            [[unroll]] for (int d = 0; d < 3; d++)
                if (d < CONV_S && uint(p.lo[d] + t.kr[d]) >= uint(gIn[d])) inside = false;
    }
    else
    {
        // Input positions between lhs-dilated samples, or outside the input, read 0.
        [[unroll]] for (int d = 0; d < 3; d++)
            if (d < CONV_S)
            {
                int q = p.lo[d] + t.kr[d];
                int qi = q / gLd[d];
                if (q < 0 || qi * gLd[d] != q || qi >= gIn[d]) inside = false;
                idx += qi * gXs[d];
            }
    }
    T v = T(0);
    if (inside) v = inputAt(idx);
    return v;
}
