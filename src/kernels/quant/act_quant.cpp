#include "kernels/quant/act_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace g3n::quant {
namespace {

// Round to nearest (ties to even) by adding 1.5 * 2^23: branch-free, so the loops vectorise.
inline int32_t RoundMagic(float f) {
  const float v = f + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

void Sums16(const int8_t* q, int64_t n, int16_t* sum16) {
  for (int64_t g = 0; g < n / 16; ++g) {
    int s = 0;
    for (int i = 0; i < 16; ++i) s += q[g * 16 + i];
    sum16[g] = static_cast<int16_t>(s);
  }
}

}  // namespace

int64_t ActBlockFor(DType weight) {
  switch (weight) {
    case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: case DType::Q8_K: return 256;
    default: return 32;
  }
}

void QuantizeActRow32Scalar(const float* x, int64_t n, int8_t* q, float* d, int16_t* sum16) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* xb = x + b * 32;
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(xb[i]));
    const float db = amax / 127.0f;
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    d[b] = db;
    for (int i = 0; i < 32; ++i) q[b * 32 + i] = static_cast<int8_t>(std::clamp(RoundMagic(xb[i] * id), -127, 127));
  }
  Sums16(q, n, sum16);
}

// ggml's quantize_row_q8_K_ref: the scale comes from the signed extreme, so that value maps to
// exactly -127 and nothing exceeds 127 in magnitude.
void QuantizeActRow256Scalar(const float* x, int64_t n, int8_t* q, float* d, int16_t* sum16) {
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* xb = x + b * 256;
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < 256; ++i) {
      const float ax = std::fabs(xb[i]);
      if (ax > amax) {
        amax = ax;
        max = xb[i];
      }
    }
    if (amax == 0.0f) {
      d[b] = 0.0f;
      std::memset(q + b * 256, 0, 256);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int i = 0; i < 256; ++i) q[b * 256 + i] = static_cast<int8_t>(std::min(127, RoundMagic(iscale * xb[i])));
    d[b] = 1.0f / iscale;
  }
  Sums16(q, n, sum16);
}

const ActView& QuantizedActs::Quantize(DType weight, const float* X, int64_t T, int64_t K, ThreadPool* pool) {
  const int64_t block = ActBlockFor(weight);
  q_.resize(static_cast<size_t>(T * K));
  d_.resize(static_cast<size_t>(T * (K / block)));
  s_.resize(static_cast<size_t>(T * (K / 16)));
  ds_.resize(static_cast<size_t>(T * (K / 32)));
  view_ = {T, K, block, q_.data(), d_.data(), s_.data(), ds_.data()};
  auto run = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      if (block == 256) {
        QuantizeActRow256(X + t * K, K, q_.data() + t * K, d_.data() + t * (K / block), s_.data() + t * (K / 16));
      } else {
        QuantizeActRow32(X + t * K, K, q_.data() + t * K, d_.data() + t * (K / block), s_.data() + t * (K / 16));
      }
      const float* d = d_.data() + t * (K / block);
      const int16_t* s16 = s_.data() + t * (K / 16);
      float* ds = ds_.data() + t * (K / 32);
      for (int64_t b = 0; b < K / 32; ++b) ds[b] = d[b * 32 / block] * static_cast<float>(s16[2 * b] + s16[2 * b + 1]);
    }
  };
  // A token row is microseconds of work: split only when there are many.
  if (T >= 8) {
    ParallelFor(pool, T, run, 4);
  } else {
    run(0, T);
  }
  return view_;
}

}  // namespace g3n::quant
