// Per-call activation terms the SIMD kernels read beside the quants themselves: each weight
// sub-block's activation scale and its zero-point correction, laid out the way each kernel
// walks them. Built once per MatMul call (O(T * K / 16)), shared by all threads.
#pragma once
#include <cstdint>
#include <vector>

#include "io/dtype.h"
#include "kernels/quant/act_quant.h"

namespace g3n::quant {

// Zero point a format's quants are stored with (value = d * (q - zp)); 128 for the int8
// formats, which the tiled kernel stores as q + 128 to make them unsigned.
int ZeroPoint(DType weight);

// Tiled kernel: per weight sub-block (32 elements, 16 for Q6_K) in natural order.
struct PanelActs {
  int64_t sub = 32;
  const float* dx = nullptr;      // [T][K / sub] activation scale
  const int32_t* corr = nullptr;  // [T][K / sub] -zero_point * sum of the sub-block's quants
};

// AVX-512 decode kernel for the 32-element formats: per block, grouped by 16 blocks in the
// order its reduction leaves them (lane 4k + j holds block 4j + k of the group).
struct DecodeActs {
  int64_t groups = 0;             // K / 512
  const float* dx = nullptr;      // [T][groups * 16] activation scale
  const int32_t* corr = nullptr;  // [T][groups * 16] -zero_point * sum of the block's quants
  const float* ds = nullptr;      // [T][groups * 16] scale * sum, for formats with a min
  // AVX2 decode kernel (8-block groups, natural order): [T][K / 32] as corr above.
  const int32_t* corr32 = nullptr;

  // Token t alone (k: elements per token).
  DecodeActs Token(int64_t t, int64_t k) const {
    const int64_t n = groups * 16;
    return {groups, dx + t * n, corr + t * n, ds + t * n, corr32 + t * (k / 32)};
  }
};
inline int DecodeLaneBlock(int lane) { return 4 * (lane % 4) + lane / 4; }

class PanelActsBuf {
 public:
  const PanelActs& Build(DType weight, const ActView& a);

 private:
  std::vector<float> dx_;
  std::vector<int32_t> corr_;
  PanelActs view_;
};

class DecodeActsBuf {
 public:
  // Null for the K formats, which the AVX-512 32-block kernel does not handle.
  const DecodeActs* Build(DType weight, const ActView& a);

 private:
  std::vector<float> dx_, ds_;
  std::vector<int32_t> corr_, corr32_;
  DecodeActs view_;
};

}  // namespace g3n::quant
