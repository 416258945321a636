#version 450
// float32 split-K sum (see gemm_splitk.glsl).
#define T float
#include "gemm_splitk.glsl"
