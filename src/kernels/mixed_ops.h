// Dot / axpy between fp32 vectors and rows stored narrower (F16, BF16, int8 with a scale):
// what attention needs to read a compact KV cache without widening it first.
#pragma once
#include <cstdint>

#include "io/dtype.h"

namespace g3n {

// sum_i a[i] * b[i], b stored as `bt` (F32, F16, BF16 or I8).
float DotMixed(const float* a, DType bt, const uint8_t* b, int64_t n);
// y[i] += alpha * x[i], x stored as `xt` (F32, F16, BF16 or I8).
void AxpyMixed(float alpha, DType xt, const uint8_t* x, float* y, int64_t n);

// out[j] = a · row_j for n rows of `dim` values spaced `stride` bytes apart, stored as `t`.
void DotRows(const float* a, DType t, const uint8_t* rows, size_t stride, int64_t n, int64_t dim, float* out);
// y += sum_j w[j] * row_j over the same row layout.
void AxpyRows(const float* w, DType t, const uint8_t* rows, size_t stride, int64_t n, int64_t dim, float* y);

// z = softmax(z) in place, computed in fp32 with a vectorised exp.
void Softmax(float* z, int64_t n);

}  // namespace g3n
