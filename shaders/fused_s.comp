#version 450
// Fused elementwise chains, short, cheap operations only (12 steps of arithmetic, comparisons, select, conversions); see fused.glsl for the
// scheme. The declarations and steps below are regular: one per input, output and slot.
#define SLOTS 12
#include "fused.glsl"

layout(constant_id = 0) const uint IN0 = 0u; layout(constant_id = 24) const uint C0 = 1u;
layout(constant_id = 1) const uint IN1 = 0u; layout(constant_id = 25) const uint C1 = 1u;
layout(constant_id = 2) const uint IN2 = 0u; layout(constant_id = 26) const uint C2 = 1u;
layout(constant_id = 3) const uint IN3 = 0u; layout(constant_id = 27) const uint C3 = 1u;
layout(constant_id = 4) const uint IN4 = 0u; layout(constant_id = 28) const uint C4 = 1u;
layout(constant_id = 5) const uint IN5 = 0u; layout(constant_id = 29) const uint C5 = 1u;
layout(constant_id = 6) const uint IN6 = 0u; layout(constant_id = 30) const uint C6 = 1u;
layout(constant_id = 7) const uint IN7 = 0u; layout(constant_id = 31) const uint C7 = 1u;
layout(constant_id = 8) const uint IN8 = 0u; layout(constant_id = 32) const uint C8 = 1u;
layout(constant_id = 9) const uint IN9 = 0u; layout(constant_id = 33) const uint C9 = 1u;
layout(constant_id = 10) const uint IN10 = 0u; layout(constant_id = 34) const uint C10 = 1u;
layout(constant_id = 11) const uint IN11 = 0u; layout(constant_id = 35) const uint C11 = 1u;
layout(constant_id = 12) const uint IN12 = 0u; layout(constant_id = 36) const uint C12 = 1u;
layout(constant_id = 13) const uint IN13 = 0u; layout(constant_id = 37) const uint C13 = 1u;
layout(constant_id = 14) const uint IN14 = 0u; layout(constant_id = 38) const uint C14 = 1u;
layout(constant_id = 15) const uint IN15 = 0u; layout(constant_id = 39) const uint C15 = 1u;
layout(constant_id = 16) const uint IN16 = 0u; layout(constant_id = 40) const uint C16 = 1u;
layout(constant_id = 17) const uint IN17 = 0u; layout(constant_id = 41) const uint C17 = 1u;
layout(constant_id = 18) const uint IN18 = 0u; layout(constant_id = 42) const uint C18 = 1u;
layout(constant_id = 19) const uint IN19 = 0u; layout(constant_id = 43) const uint C19 = 1u;
layout(constant_id = 20) const uint IN20 = 0u; layout(constant_id = 44) const uint C20 = 1u;
layout(constant_id = 21) const uint IN21 = 0u; layout(constant_id = 45) const uint C21 = 1u;
layout(constant_id = 22) const uint IN22 = 0u; layout(constant_id = 46) const uint C22 = 1u;
layout(constant_id = 23) const uint IN23 = 0u; layout(constant_id = 47) const uint C23 = 1u;
layout(constant_id = 48) const uint OUT0 = NONE;
layout(constant_id = 49) const uint OUT1 = NONE;
layout(constant_id = 50) const uint OUT2 = NONE;
layout(constant_id = 51) const uint OUT3 = NONE;
layout(constant_id = 52) const uint W0 = NOP;
layout(constant_id = 53) const uint W1 = NOP;
layout(constant_id = 54) const uint W2 = NOP;
layout(constant_id = 55) const uint W3 = NOP;
layout(constant_id = 56) const uint W4 = NOP;
layout(constant_id = 57) const uint W5 = NOP;
layout(constant_id = 58) const uint W6 = NOP;
layout(constant_id = 59) const uint W7 = NOP;
layout(constant_id = 60) const uint W8 = NOP;
layout(constant_id = 61) const uint W9 = NOP;
layout(constant_id = 62) const uint W10 = NOP;
layout(constant_id = 63) const uint W11 = NOP;

void main()
{
    gi = linear_id();
    if (gi >= pc.n) return;
    if (IN0 != 0u) r[0] = load(IN0, C0, (IN0 & 4u) != 0u ? i0[loadIndex(IN0, C0) >> 2] : i0[loadIndex(IN0, C0)]);
    if (IN1 != 0u) r[1] = load(IN1, C1, (IN1 & 4u) != 0u ? i1[loadIndex(IN1, C1) >> 2] : i1[loadIndex(IN1, C1)]);
    if (IN2 != 0u) r[2] = load(IN2, C2, (IN2 & 4u) != 0u ? i2[loadIndex(IN2, C2) >> 2] : i2[loadIndex(IN2, C2)]);
    if (IN3 != 0u) r[3] = load(IN3, C3, (IN3 & 4u) != 0u ? i3[loadIndex(IN3, C3) >> 2] : i3[loadIndex(IN3, C3)]);
    if (IN4 != 0u) r[4] = load(IN4, C4, (IN4 & 4u) != 0u ? i4[loadIndex(IN4, C4) >> 2] : i4[loadIndex(IN4, C4)]);
    if (IN5 != 0u) r[5] = load(IN5, C5, (IN5 & 4u) != 0u ? i5[loadIndex(IN5, C5) >> 2] : i5[loadIndex(IN5, C5)]);
    if (IN6 != 0u) r[6] = load(IN6, C6, (IN6 & 4u) != 0u ? i6[loadIndex(IN6, C6) >> 2] : i6[loadIndex(IN6, C6)]);
    if (IN7 != 0u) r[7] = load(IN7, C7, (IN7 & 4u) != 0u ? i7[loadIndex(IN7, C7) >> 2] : i7[loadIndex(IN7, C7)]);
    if (IN8 != 0u) r[8] = load(IN8, C8, (IN8 & 4u) != 0u ? i8[loadIndex(IN8, C8) >> 2] : i8[loadIndex(IN8, C8)]);
    if (IN9 != 0u) r[9] = load(IN9, C9, (IN9 & 4u) != 0u ? i9[loadIndex(IN9, C9) >> 2] : i9[loadIndex(IN9, C9)]);
    if (IN10 != 0u) r[10] = load(IN10, C10, (IN10 & 4u) != 0u ? i10[loadIndex(IN10, C10) >> 2] : i10[loadIndex(IN10, C10)]);
    if (IN11 != 0u) r[11] = load(IN11, C11, (IN11 & 4u) != 0u ? i11[loadIndex(IN11, C11) >> 2] : i11[loadIndex(IN11, C11)]);
    if (IN12 != 0u) r[12] = load(IN12, C12, (IN12 & 4u) != 0u ? i12[loadIndex(IN12, C12) >> 2] : i12[loadIndex(IN12, C12)]);
    if (IN13 != 0u) r[13] = load(IN13, C13, (IN13 & 4u) != 0u ? i13[loadIndex(IN13, C13) >> 2] : i13[loadIndex(IN13, C13)]);
    if (IN14 != 0u) r[14] = load(IN14, C14, (IN14 & 4u) != 0u ? i14[loadIndex(IN14, C14) >> 2] : i14[loadIndex(IN14, C14)]);
    if (IN15 != 0u) r[15] = load(IN15, C15, (IN15 & 4u) != 0u ? i15[loadIndex(IN15, C15) >> 2] : i15[loadIndex(IN15, C15)]);
    if (IN16 != 0u) r[16] = load(IN16, C16, (IN16 & 4u) != 0u ? i16[loadIndex(IN16, C16) >> 2] : i16[loadIndex(IN16, C16)]);
    if (IN17 != 0u) r[17] = load(IN17, C17, (IN17 & 4u) != 0u ? i17[loadIndex(IN17, C17) >> 2] : i17[loadIndex(IN17, C17)]);
    if (IN18 != 0u) r[18] = load(IN18, C18, (IN18 & 4u) != 0u ? i18[loadIndex(IN18, C18) >> 2] : i18[loadIndex(IN18, C18)]);
    if (IN19 != 0u) r[19] = load(IN19, C19, (IN19 & 4u) != 0u ? i19[loadIndex(IN19, C19) >> 2] : i19[loadIndex(IN19, C19)]);
    if (IN20 != 0u) r[20] = load(IN20, C20, (IN20 & 4u) != 0u ? i20[loadIndex(IN20, C20) >> 2] : i20[loadIndex(IN20, C20)]);
    if (IN21 != 0u) r[21] = load(IN21, C21, (IN21 & 4u) != 0u ? i21[loadIndex(IN21, C21) >> 2] : i21[loadIndex(IN21, C21)]);
    if (IN22 != 0u) r[22] = load(IN22, C22, (IN22 & 4u) != 0u ? i22[loadIndex(IN22, C22) >> 2] : i22[loadIndex(IN22, C22)]);
    if (IN23 != 0u) r[23] = load(IN23, C23, (IN23 & 4u) != 0u ? i23[loadIndex(IN23, C23) >> 2] : i23[loadIndex(IN23, C23)]);
    if (W0 != NOP) r[24] = opLight(W0);
    if (W1 != NOP) r[25] = opLight(W1);
    if (W2 != NOP) r[26] = opLight(W2);
    if (W3 != NOP) r[27] = opLight(W3);
    if (W4 != NOP) r[28] = opLight(W4);
    if (W5 != NOP) r[29] = opLight(W5);
    if (W6 != NOP) r[30] = opLight(W6);
    if (W7 != NOP) r[31] = opLight(W7);
    if (W8 != NOP) r[32] = opLight(W8);
    if (W9 != NOP) r[33] = opLight(W9);
    if (W10 != NOP) r[34] = opLight(W10);
    if (W11 != NOP) r[35] = opLight(W11);
    if (OUT0 != NONE) o0[gi] = r[OUT0];
    if (OUT1 != NONE) o1[gi] = r[OUT1];
    if (OUT2 != NONE) o2[gi] = r[OUT2];
    if (OUT3 != NONE) o3[gi] = r[OUT3];
}
