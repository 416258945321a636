#version 450
// int32 tiled GEMM with wrapping arithmetic (see gemm_tiled.glsl).
#define T int
#define TV ivec4
#include "gemm_tiled.glsl"
