#version 450
// float32 tiled GEMM for GPUs (see gemm_tiled.glsl).
#define T float
#define TV vec4
#include "gemm_tiled.glsl"
