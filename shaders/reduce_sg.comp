#version 450
// Reductions whose MODE 0 combines with subgroup arithmetic (see reduce.glsl); used only where the
// device reports subgroup arithmetic in compute shaders (the module declares the capability).
#extension GL_KHR_shader_subgroup_arithmetic : require
#define STAX_SUBGROUP 1
#include "reduce.glsl"
