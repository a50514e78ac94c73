// The engine's named ops. Model code calls these on plain float buffers and WeightMatrix views;
// SIMD and threading live behind them. Each has a scalar reference in kernels/reference.h.
#pragma once
#include <cstdint>

#include "kernels/matrix.h"
#include "kernels/thread_pool.h"

namespace g3n {

// Y[t, r] = sum_c W[r, c] * X[t, c] for t < T, r < W.rows. X has row stride W.cols,
// Y has row stride ldy (>= W.rows). Accumulates in fp32. Block-quantized weights (Q4_0 ..
// Q8_K) go to QuantMatMul (kernels/quant/quant_matmul.h): X is quantized to int8 per call,
// so results carry that rounding (at most half an activation step per element).
void MatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy, ThreadPool* pool);

// y[k] = W[rows[k], :] . x for k < n, one token: the rows a sparse layer needs. Block-quantized
// weights quantize x once for all of them (the results equal MatMul's for those rows).
void MatVecRows(const WeightMatrix& W, const int32_t* rows, int64_t n, const float* x, float* y, ThreadPool* pool);

// Y[t * ldy + r] = W[r, :] . X[t, :] only where mask[t * ldy + r] != 0 (other entries are
// left as they are): the sparse layers' up projection in prefill, where each token uses ~5%
// of the rows. Each weight row is read once and meets just the tokens that use it.
void MatMulMasked(const WeightMatrix& W, const float* X, int64_t T, const float* mask, float* Y, int64_t ldy,
                  ThreadPool* pool);

float Dot(const float* a, const float* b, int64_t n);
void Axpy(float a, const float* x, float* y, int64_t n);  // y += a * x

// Converts n elements of a row into floats: F32/F16/BF16, and the block formats (n a multiple
// of the block) decoded exactly as ggml does. Other types read as zeros.
void RowToF32(DType dtype, const uint8_t* src, int64_t n, float* dst);

// out = x / sqrt(mean(x^2) + eps) * w (w may be null: no scale). out may alias x.
void RmsNorm(const float* x, const float* w, int64_t n, float eps, float* out);
float MeanSquare(const float* x, int64_t n);

// HF gelu_pytorch_tanh, in place (SIMD; ScalarGeluTanh is the std::tanh reference).
void GeluTanh(float* x, int64_t n);
void ScalarGeluTanh(float* x, int64_t n);

// Gaussian top-k: x = max(x - (mean + std_pop * multiplier), 0), in place.
void GaussianTopK(float* x, int64_t n, float multiplier);

// Rotate-half RoPE on one head vector of size dim with precomputed cos/sin of size dim/2.
void RopeRotate(float* x, const float* cos_t, const float* sin_t, int64_t dim);

// c * tanh(x / c) in place (SIMD; ScalarSoftCap is the std::tanh reference).
void SoftCap(float* x, int64_t n, float cap);
void ScalarSoftCap(float* x, int64_t n, float cap);

// Inverse of the standard normal CDF.
double NormalQuantile(double p);

const char* KernelTargetName();  // the SIMD target chosen at run time

}  // namespace g3n
