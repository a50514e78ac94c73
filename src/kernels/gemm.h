// The many-row MatMul: a cache-blocked GEMM for float weights (F32, BF16, F16), used when there
// are enough token rows for arithmetic to dominate (prefill, the audio and vision encoders).
// MatMul (ops.h) calls it from kGemmMinRows rows up; below that the weight stream dominates and
// the row-dot kernels in matmul_hwy.cpp, which read each weight once without repacking, win.
#pragma once
#include <cstdint>

#include "kernels/matrix.h"
#include "kernels/thread_pool.h"

namespace g3n {

// Crossover measured on AVX-512 with 2 threads (kernels_bench --path rowdot|gemm, BF16): the GEMM
// wins from T = 24..48 depending on the shape (later for long rows, K = 6144) and everywhere
// from 64; below, repacking the weights costs more than the register tiling saves.
// -DG3N_GEMM_MIN_ROWS=N overrides it, so a whole model can be timed on either path.
#ifdef G3N_GEMM_MIN_ROWS
inline constexpr int64_t kGemmMinRows = G3N_GEMM_MIN_ROWS;
#else
inline constexpr int64_t kGemmMinRows = 48;
#endif

// Same contract as MatMul for F32/BF16/F16 weights: Y[t, r] = sum_c W[r, c] * X[t, c], X with
// row stride W.cols, Y with row stride ldy. fp32 accumulation: one chain per output over each
// block of 256 columns, the blocks' sums added in order. Keeps ~1 MiB of packing scratch per
// calling thread (thread_local, grown once, never freed before the thread ends).
void GemmMatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy, ThreadPool* pool);

// The few-row path (decode): 4x4 tiles of row dot products straight from the stored weights,
// threads split over output rows. Same contract; exposed for tests and benchmarks.
void RowDotMatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy, ThreadPool* pool);

}  // namespace g3n
