#version 450
// float32 GEMM (see gemm.glsl).
#define T float
#define TV vec4
#include "gemm.glsl"
