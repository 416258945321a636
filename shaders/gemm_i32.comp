#version 450
// int32 GEMM with wrapping arithmetic (see gemm.glsl).
#define T int
#define TV ivec4
#include "gemm.glsl"
