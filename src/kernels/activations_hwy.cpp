// SIMD bodies of the transcendental element-wise ops (GELU-tanh, soft-capping) and of the int8
// activation quantizer, compiled per Highway target. The scalar forms stay beside them as the
// references the tests compare against (ScalarGeluTanh, ScalarSoftCap, QuantizeActRow32Scalar,
// QuantizeActRow256Scalar).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/activations_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

#include <algorithm>
#include <cmath>

#include "kernels/ops.h"
#include "kernels/quant/act_quant.h"

HWY_BEFORE_NAMESPACE();
namespace g3n {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;

// tanh(u) = expm1(2u) / (expm1(2u) + 2): accurate near 0 (no 1 - x cancellation); |u| is
// clamped at 9, where tanh is 1 to float precision, so expm1 cannot overflow.
HWY_INLINE hn::Vec<DF> Tanh(DF df, hn::Vec<DF> u) {
  const auto lim = hn::Set(df, 9.0f);
  u = hn::Min(hn::Max(u, hn::Neg(lim)), lim);
  const auto e = hn::Expm1(df, hn::Add(u, u));
  return hn::Div(e, hn::Add(e, hn::Set(df, 2.0f)));
}

template <class Fn>
HWY_INLINE void Map(float* x, int64_t n, Fn fn) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(fn(df, hn::LoadU(df, x + i)), df, x + i);
  if (i < n) {
    float tail[hn::MaxLanes(df)] = {};
    std::copy(x + i, x + n, tail);
    hn::StoreU(fn(df, hn::LoadU(df, tail)), df, tail);
    std::copy(tail, tail + (n - i), x + i);
  }
}

void GeluTanhImpl(float* x, int64_t n) {
  Map(x, n, [](DF df, hn::Vec<DF> z) HWY_ATTR {
    const auto z3 = hn::Mul(hn::Mul(z, z), z);
    const auto u = hn::Mul(hn::Set(df, 0.7978845608028654f), hn::MulAdd(hn::Set(df, 0.044715f), z3, z));
    return hn::Mul(hn::Mul(hn::Set(df, 0.5f), z), hn::Add(hn::Set(df, 1.0f), Tanh(df, u)));
  });
}

void SoftCapImpl(float* x, int64_t n, float cap) {
  Map(x, n, [cap](DF df, hn::Vec<DF> v) HWY_ATTR {
    return hn::Mul(hn::Set(df, cap), Tanh(df, hn::Mul(v, hn::Set(df, 1.0f / cap))));
  });
}

// Bit-identical to QuantizeActRow32Scalar: the same amax, scale, reciprocal and
// round-half-to-even, then the clamp to +-127 and the sums of 16.
void QuantizeActRow32Impl(const float* x, int64_t n, int8_t* q, float* d, int16_t* sum16) {
  const DF df;
  const hn::Rebind<int32_t, DF> di;
  const hn::Rebind<int8_t, DF> d8;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  if (N > 16 || 16 % N != 0) {  // a lane count the sums of 16 do not fit
    quant::QuantizeActRow32Scalar(x, n, q, d, sum16);
    return;
  }
  const auto hi = hn::Set(di, 127), lo = hn::Set(di, -127);
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* xb = x + b * 32;
    auto m = hn::Zero(df);
    for (int64_t i = 0; i < 32; i += N) m = hn::Max(m, hn::Abs(hn::LoadU(df, xb + i)));
    const float amax = hn::GetLane(hn::MaxOfLanes(df, m));
    const float db = amax / 127.0f;
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    d[b] = db;
    const auto vid = hn::Set(df, id);
    for (int64_t g = 0; g < 2; ++g) {
      auto s = hn::Zero(di);
      for (int64_t i = 16 * g; i < 16 * g + 16; i += N) {
        const auto qi = hn::Min(hn::Max(hn::NearestInt(hn::Mul(hn::LoadU(df, xb + i), vid)), lo), hi);
        s = hn::Add(s, qi);
        hn::StoreU(hn::DemoteTo(d8, qi), d8, q + b * 32 + i);
      }
      sum16[2 * b + g] = static_cast<int16_t>(hn::GetLane(hn::SumOfLanes(di, s)));
    }
  }
}

// Bit-identical to QuantizeActRow256Scalar (ggml's Q8_K): the scale comes from the first
// element of largest magnitude, with its sign.
void QuantizeActRow256Impl(const float* x, int64_t n, int8_t* q, float* d, int16_t* sum16) {
  const DF df;
  const hn::Rebind<int32_t, DF> di;
  const hn::Rebind<int8_t, DF> d8;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  if (N > 16 || 16 % N != 0) {
    quant::QuantizeActRow256Scalar(x, n, q, d, sum16);
    return;
  }
  const auto hi = hn::Set(di, 127);
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* xb = x + b * 256;
    auto m = hn::Zero(df);
    for (int64_t i = 0; i < 256; i += N) m = hn::Max(m, hn::Abs(hn::LoadU(df, xb + i)));
    const float amax = hn::GetLane(hn::MaxOfLanes(df, m));
    if (amax == 0.0f) {
      d[b] = 0.0f;
      std::fill(q + b * 256, q + b * 256 + 256, int8_t{0});
      std::fill(sum16 + b * 16, sum16 + b * 16 + 16, int16_t{0});
      continue;
    }
    float max = 0.0f;
    const auto va = hn::Set(df, amax);
    for (int64_t i = 0; i < 256; i += N) {
      const intptr_t k = hn::FindFirstTrue(df, hn::Eq(hn::Abs(hn::LoadU(df, xb + i)), va));
      if (k >= 0) {
        max = xb[i + k];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const auto vis = hn::Set(df, iscale);
    for (int64_t g = 0; g < 16; ++g) {
      auto s = hn::Zero(di);
      for (int64_t i = 16 * g; i < 16 * g + 16; i += N) {
        const auto qi = hn::Min(hn::NearestInt(hn::Mul(vis, hn::LoadU(df, xb + i))), hi);
        s = hn::Add(s, qi);
        hn::StoreU(hn::DemoteTo(d8, qi), d8, q + b * 256 + i);
      }
      sum16[b * 16 + g] = static_cast<int16_t>(hn::GetLane(hn::SumOfLanes(di, s)));
    }
    d[b] = 1.0f / iscale;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace g3n {
HWY_EXPORT(GeluTanhImpl);
HWY_EXPORT(SoftCapImpl);
HWY_EXPORT(QuantizeActRow32Impl);
HWY_EXPORT(QuantizeActRow256Impl);

void GeluTanh(float* x, int64_t n) { HWY_DYNAMIC_DISPATCH(GeluTanhImpl)(x, n); }
void SoftCap(float* x, int64_t n, float cap) { HWY_DYNAMIC_DISPATCH(SoftCapImpl)(x, n, cap); }

namespace quant {
void QuantizeActRow32(const float* x, int64_t n, int8_t* q, float* d, int16_t* sum16) {
  HWY_DYNAMIC_DISPATCH(QuantizeActRow32Impl)(x, n, q, d, sum16);
}
void QuantizeActRow256(const float* x, int64_t n, int8_t* q, float* d, int16_t* sum16) {
  HWY_DYNAMIC_DISPATCH(QuantizeActRow256Impl)(x, n, q, d, sum16);
}
}  // namespace quant
}  // namespace g3n
#endif  // HWY_ONCE
