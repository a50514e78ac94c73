// Activations quantized to int8 once per MatMul call, so that quantized weights meet them in
// integer dot products. Two schemes, following what ggml pairs with each weight format:
//  - 32-element blocks (for Q4_0 .. Q8_0): d = max|x| / 127, q = round(x / d), fp32 d;
//  - 256-element blocks (for the K formats): ggml's Q8_K, iscale = -127 / x[argmax |x|].
// Both keep the sums of q over groups of 16, which turn a weight's zero point or min into one
// multiply per group instead of one per element.
#pragma once
#include <cstdint>
#include <vector>

#include "io/dtype.h"
#include "kernels/thread_pool.h"

namespace g3n::quant {

struct ActView {
  int64_t T = 0;           // tokens
  int64_t K = 0;           // elements per token (a multiple of block)
  int64_t block = 32;      // elements per scale: 32 or 256
  const int8_t* q = nullptr;      // [T][K]
  const float* d = nullptr;       // [T][K / block]
  const int16_t* sum16 = nullptr; // [T][K / 16]
  const float* ds32 = nullptr;    // [T][K / 32]: d of the block times the sum of its 32 quants

  const int8_t* qt(int64_t t) const { return q + t * K; }
  // block is 32 or 256: a shift, not a 64-bit division (these run once per weight row).
  const float* dt(int64_t t) const { return d + t * (K >> (block == 256 ? 8 : 5)); }
  const int16_t* st(int64_t t) const { return sum16 + t * (K / 16); }
  const float* dst(int64_t t) const { return ds32 + t * (K / 32); }
  // Token t alone, as a one-token view.
  ActView Token(int64_t t) const { return {1, K, block, qt(t), dt(t), st(t), dst(t)}; }
};

// Owns the buffers; Quantize reuses them across calls.
class QuantizedActs {
 public:
  // Quantizes X[T][K] with the scheme that weights of type `weight` use (32 or 256 blocks).
  const ActView& Quantize(DType weight, const float* X, int64_t T, int64_t K, ThreadPool* pool);
  const ActView& view() const { return view_; }

 private:
  std::vector<int8_t> q_;
  std::vector<float> d_;
  std::vector<int16_t> s_;
  std::vector<float> ds_;
  ActView view_;
};

// 256 for the K formats, 32 for the others.
int64_t ActBlockFor(DType weight);

// One token's row (n a multiple of the block): the building blocks of Quantize, for tests.
void QuantizeActRow32Scalar(const float* x, int64_t n, int8_t* q, float* d, int16_t* sum16);  // reference
void QuantizeActRow32(const float* x, int64_t n, int8_t* q, float* d, int16_t* sum16);
void QuantizeActRow256Scalar(const float* x, int64_t n, int8_t* q, float* d, int16_t* sum16);  // reference
void QuantizeActRow256(const float* x, int64_t n, int8_t* q, float* d, int16_t* sum16);

}  // namespace g3n::quant
