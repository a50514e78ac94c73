// MatMul for block-quantized weights (the ggml formats of io/dtype.h). MatMul in kernels/ops.h
// routes here; activations are quantized to int8 once per call and meet the weights in integer
// dot products, with a tiled kernel for prefill (many tokens) and a streaming one for decode.
#pragma once
#include <cstdint>

#include "kernels/matrix.h"
#include "kernels/thread_pool.h"

namespace g3n {

// Y[t, r] = W[r, :] . X[t, :] as in MatMul. Returns false, touching nothing, for a dtype it
// does not handle (anything but Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, Q8_K) or a
// column count that is not a whole number of blocks.
bool QuantMatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy, ThreadPool* pool);

// MatVecRows (kernels/ops.h) for block-quantized weights; false, touching nothing, where
// QuantMatMul would refuse.
bool QuantMatVecRows(const WeightMatrix& W, const int32_t* rows, int64_t n, const float* x, float* y,
                     ThreadPool* pool);

// MatMulMasked's work for block-quantized weights: rows [r0, r1), row r against the tokens
// tokens[offsets[r - r0] .. offsets[r - r0 + 1]). False, touching nothing, where QuantMatMul
// would refuse. X [T][W.cols] is quantized once per call.
bool QuantMatMulTokenLists(const WeightMatrix& W, const float* X, int64_t T, const int64_t* offsets,
                           const int32_t* tokens, float* Y, int64_t ldy, ThreadPool* pool);

// Which kernel QuantMatMul uses for T tokens of this dtype: "tiled" or "direct" (tests, bench).
const char* QuantKernelFor(DType dtype, int64_t T);

// The SIMD target the quantized kernels run on (Highway's name, e.g. "AVX3_DL").
const char* QuantKernelTarget();

}  // namespace g3n
