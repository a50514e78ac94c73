// Scalar references for the SIMD kernels: slow, obvious, double-accumulated. Tests only.
#pragma once
#include "kernels/matrix.h"

namespace g3n::ref {

void MatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy);

// What the quantized kernels compute, without their tricks: activations quantized with the
// same scheme (quant::QuantizeActRow32/256), weights decoded by DequantizeRow, each activation
// block's products summed in double and scaled by that block's d. Also returns, per output,
// sum |w_i * q_i * d_x| in *mag (if non-null): the scale of the kernels' rounding error.
void QuantMatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy, float* mag = nullptr);

}  // namespace g3n::ref
