// Scalar references for the SIMD kernels: slow, obvious, double-accumulated. Tests only.
#pragma once
#include "kernels/matrix.h"

namespace g3n::ref {

void MatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy);

}  // namespace g3n::ref
