#version 450
// Reductions and scans combining with a shared-memory tree (see reduce.glsl).
#include "reduce.glsl"
