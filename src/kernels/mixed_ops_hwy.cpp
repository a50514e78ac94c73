// SIMD bodies of mixed_ops.h, compiled per Highway target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/mixed_ops_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

#include <cmath>
#include <cstring>

#include "kernels/mixed_ops.h"

HWY_BEFORE_NAMESPACE();
namespace g3n {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;

HWY_INLINE hn::Vec<DF> LoadF(DF df, const float* p) { return hn::LoadU(df, p); }
HWY_INLINE hn::Vec<DF> LoadF(DF df, const hwy::bfloat16_t* p) {
  return hn::PromoteTo(df, hn::LoadU(hn::Rebind<hwy::bfloat16_t, DF>(), p));
}
HWY_INLINE hn::Vec<DF> LoadF(DF df, const hwy::float16_t* p) {
  return hn::PromoteTo(df, hn::LoadU(hn::Rebind<hwy::float16_t, DF>(), p));
}
HWY_INLINE hn::Vec<DF> LoadF(DF df, const int8_t* p) {
  const hn::Rebind<int32_t, DF> di;
  return hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(hn::Rebind<int8_t, DF>(), p)));
}
HWY_INLINE float Scalar(float v) { return v; }
HWY_INLINE float Scalar(hwy::bfloat16_t v) { return hwy::F32FromBF16(v); }
HWY_INLINE float Scalar(hwy::float16_t v) {  // a struct on x86, the native __fp16 on Arm
  uint16_t bits;
  std::memcpy(&bits, &v, 2);
  return F16ToF32(bits);
}
HWY_INLINE float Scalar(int8_t v) { return static_cast<float>(v); }

template <typename T>
float DotT(const float* a, const T* b, int64_t n) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    acc0 = hn::MulAdd(hn::LoadU(df, a + i), LoadF(df, b + i), acc0);
    acc1 = hn::MulAdd(hn::LoadU(df, a + i + N), LoadF(df, b + i + N), acc1);
  }
  for (; i + N <= n; i += N) acc0 = hn::MulAdd(hn::LoadU(df, a + i), LoadF(df, b + i), acc0);
  float s = hn::GetLane(hn::SumOfLanes(df, hn::Add(acc0, acc1)));
  for (; i < n; ++i) s += a[i] * Scalar(b[i]);
  return s;
}

template <typename T>
void AxpyT(float alpha, const T* x, float* y, int64_t n) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto va = hn::Set(df, alpha);
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(hn::MulAdd(va, LoadF(df, x + i), hn::LoadU(df, y + i)), df, y + i);
  for (; i < n; ++i) y[i] += alpha * Scalar(x[i]);
}

float DotMixedImpl(const float* a, DType bt, const uint8_t* b, int64_t n) {
  switch (bt) {
    case DType::BF16: return DotT(a, reinterpret_cast<const hwy::bfloat16_t*>(b), n);
    case DType::F16: return DotT(a, reinterpret_cast<const hwy::float16_t*>(b), n);
    case DType::I8: return DotT(a, reinterpret_cast<const int8_t*>(b), n);
    default: return DotT(a, reinterpret_cast<const float*>(b), n);
  }
}

void AxpyMixedImpl(float alpha, DType xt, const uint8_t* x, float* y, int64_t n) {
  switch (xt) {
    case DType::BF16: return AxpyT(alpha, reinterpret_cast<const hwy::bfloat16_t*>(x), y, n);
    case DType::F16: return AxpyT(alpha, reinterpret_cast<const hwy::float16_t*>(x), y, n);
    case DType::I8: return AxpyT(alpha, reinterpret_cast<const int8_t*>(x), y, n);
    default: return AxpyT(alpha, reinterpret_cast<const float*>(x), y, n);
  }
}

void DotRowsImpl(const float* a, DType t, const uint8_t* rows, size_t stride, int64_t n, int64_t dim, float* out) {
  for (int64_t j = 0; j < n; ++j) out[j] = DotMixedImpl(a, t, rows + static_cast<size_t>(j) * stride, dim);
}

void AxpyRowsImpl(const float* w, DType t, const uint8_t* rows, size_t stride, int64_t n, int64_t dim, float* y) {
  for (int64_t j = 0; j < n; ++j) AxpyMixedImpl(w[j], t, rows + static_cast<size_t>(j) * stride, y, dim);
}

void SoftmaxImpl(float* z, int64_t n) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = z[i] > mx ? z[i] : mx;
  const auto vmx = hn::Set(df, mx);
  auto vsum = hn::Zero(df);
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto e = hn::Exp(df, hn::Sub(hn::LoadU(df, z + i), vmx));
    hn::StoreU(e, df, z + i);
    vsum = hn::Add(vsum, e);
  }
  float sum = hn::GetLane(hn::SumOfLanes(df, vsum));
  for (; i < n; ++i) sum += (z[i] = std::exp(z[i] - mx));
  const float inv = 1.0f / sum;
  for (i = 0; i < n; ++i) z[i] *= inv;
}

}  // namespace HWY_NAMESPACE
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace g3n {
HWY_EXPORT(DotMixedImpl);
HWY_EXPORT(AxpyMixedImpl);
HWY_EXPORT(DotRowsImpl);
HWY_EXPORT(SoftmaxImpl);

void Softmax(float* z, int64_t n) { HWY_DYNAMIC_DISPATCH(SoftmaxImpl)(z, n); }
HWY_EXPORT(AxpyRowsImpl);

void DotRows(const float* a, DType t, const uint8_t* rows, size_t stride, int64_t n, int64_t dim, float* out) {
  HWY_DYNAMIC_DISPATCH(DotRowsImpl)(a, t, rows, stride, n, dim, out);
}
void AxpyRows(const float* w, DType t, const uint8_t* rows, size_t stride, int64_t n, int64_t dim, float* y) {
  HWY_DYNAMIC_DISPATCH(AxpyRowsImpl)(w, t, rows, stride, n, dim, y);
}

float DotMixed(const float* a, DType bt, const uint8_t* b, int64_t n) {
  return HWY_DYNAMIC_DISPATCH(DotMixedImpl)(a, bt, b, n);
}
void AxpyMixed(float alpha, DType xt, const uint8_t* x, float* y, int64_t n) {
  HWY_DYNAMIC_DISPATCH(AxpyMixedImpl)(alpha, xt, x, y, n);
}
}  // namespace g3n
#endif
