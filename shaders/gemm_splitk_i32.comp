#version 450
// int32 split-K sum with wrapping arithmetic (see gemm_splitk.glsl).
#define T int
#include "gemm_splitk.glsl"
