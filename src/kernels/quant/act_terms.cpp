#include "kernels/quant/act_terms.h"

namespace g3n::quant {

int ZeroPoint(DType weight) {
  switch (weight) {
    case DType::Q4_0: return 8;
    case DType::Q5_0: return 16;
    case DType::Q6_K: return 32;
    case DType::Q8_0: case DType::Q8_K: return 128;
    default: return 0;
  }
}

const PanelActs& PanelActsBuf::Build(DType weight, const ActView& a) {
  const int64_t sub = weight == DType::Q6_K ? 16 : 32;
  const int64_t nsub = a.K / sub;
  const int zp = ZeroPoint(weight);
  dx_.resize(static_cast<size_t>(a.T * nsub));
  corr_.resize(dx_.size());
  for (int64_t t = 0; t < a.T; ++t) {
    const float* d = a.dt(t);
    const int16_t* s16 = a.st(t);
    for (int64_t s = 0; s < nsub; ++s) {
      dx_[t * nsub + s] = d[s * sub / a.block];
      const int sum = sub == 16 ? s16[s] : s16[2 * s] + s16[2 * s + 1];
      corr_[t * nsub + s] = -zp * sum;
    }
  }
  view_ = {sub, dx_.data(), corr_.data()};
  return view_;
}

const DecodeActs* DecodeActsBuf::Build(DType weight, const ActView& a) {
  if (a.block != 32) return nullptr;
  const int64_t groups = a.K / 512, n = groups * 16;
  const int zp = ZeroPoint(weight);
  dx_.resize(static_cast<size_t>(a.T * n));
  ds_.resize(dx_.size());
  corr_.resize(dx_.size());
  for (int64_t t = 0; t < a.T; ++t) {
    for (int64_t g = 0; g < groups; ++g) {
      for (int lane = 0; lane < 16; ++lane) {
        const int64_t b = g * 16 + DecodeLaneBlock(lane), o = t * n + g * 16 + lane;
        dx_[o] = a.dt(t)[b];
        ds_[o] = a.dst(t)[b];
        corr_[o] = -zp * (a.st(t)[2 * b] + a.st(t)[2 * b + 1]);
      }
    }
  }
  const int64_t nb = a.K / 32;
  corr32_.resize(static_cast<size_t>(a.T * nb));
  for (int64_t t = 0; t < a.T; ++t)
    for (int64_t b = 0; b < nb; ++b) corr32_[t * nb + b] = -zp * (a.st(t)[2 * b] + a.st(t)[2 * b + 1]);
  view_ = {groups, dx_.data(), corr_.data(), ds_.data(), corr32_.data()};
  return &view_;
}

}  // namespace g3n::quant
