// Per-target entry points of the quantized kernels and QuantMatMul, which picks between them.
// AVX3_DL (AVX-512 with VNNI) is not among Highway 1.0's default targets; this file asks for it
// because the tiled kernel's int8 dot products are what VNNI accelerates.
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL 1
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/quant/quant_matmul_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/quant/gemm-inl.h"
#include "kernels/quant/gemv-inl.h"

HWY_BEFORE_NAMESPACE();
namespace g3n {
namespace quant {
namespace HWY_NAMESPACE {
#if G3N_QUANT_VNNI
#pragma GCC target("avx512vnni")  // see int8_simd-inl.h
#endif

void GemvRange(DType type, const uint8_t* data, size_t stride, int64_t r0, int64_t r1, int64_t cols,
               const ActView* a, const DecodeActs* da, int64_t t0, int64_t t1, float* Y, int64_t ldy) {
  GemvRows(type, data, stride, r0, r1, cols, *a, da, t0, t1, Y, ldy);
}

void GemvRowList(DType type, const uint8_t* data, size_t stride, const int32_t* rows, int64_t n, int64_t cols,
                 const ActView* a, const DecodeActs* da, float* y) {
  for (int64_t k = 0; k < n; ++k) RowDot<1>(type, data + static_cast<size_t>(rows[k]) * stride, cols, *a, da, 0, &y[k]);
}

// Row r (r0 <= r < r1) against its token list; one token's activation terms at a time.
void GemvRowTokens(DType type, const uint8_t* data, size_t stride, int64_t r0, int64_t r1, int64_t cols,
                   const ActView* a, const DecodeActs* da, const int64_t* offsets, const int32_t* tokens, float* Y,
                   int64_t ldy) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = data + static_cast<size_t>(r) * stride;
    for (int64_t k = offsets[r]; k < offsets[r + 1]; ++k) {
      const int64_t t = tokens[k];
      const ActView at = a->Token(t);
      const DecodeActs dt = da != nullptr ? da->Token(t, a->K) : DecodeActs{};
      RowDot<1>(type, row, cols, at, da != nullptr ? &dt : nullptr, 0, &Y[t * ldy + r]);
    }
  }
}

void GemmRange(DType type, const uint8_t* data, size_t stride, int64_t r0, int64_t r1, int64_t cols,
               const ActView* a, const PanelActs* pa, float* Y, int64_t ldy) {
  GemmRows(type, data, stride, r0, r1, cols, *a, *pa, Y, ldy);
}

bool HasTiled(DType type) { return TiledSupports(type); }

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace quant
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <vector>

#include "kernels/quant/act_quant.h"
#include "kernels/quant/act_terms.h"
#include "kernels/quant/quant_matmul.h"

namespace g3n {
namespace quant {
HWY_EXPORT(GemvRange);
HWY_EXPORT(GemmRange);
HWY_EXPORT(GemvRowList);
HWY_EXPORT(GemvRowTokens);
HWY_EXPORT(HasTiled);
HWY_EXPORT(TargetName);

namespace {

// The chosen target's entry points, dispatched from inside this namespace: with a single
// compiled target (e.g. NEON only) HWY_DYNAMIC_DISPATCH(quant::F) would name N_NEON::quant::F.
auto ChosenGemvRange() { return &HWY_DYNAMIC_DISPATCH(GemvRange); }
auto ChosenGemmRange() { return &HWY_DYNAMIC_DISPATCH(GemmRange); }
auto ChosenGemvRowList() { return &HWY_DYNAMIC_DISPATCH(GemvRowList); }
auto ChosenGemvRowTokens() { return &HWY_DYNAMIC_DISPATCH(GemvRowTokens); }

// Below this many tokens the direct kernel wins: decoding a panel costs about as much as a
// few tokens' worth of dot products.
constexpr int64_t kMinTiledTokens = 8;

bool UseTiled(DType type, int64_t T) { return T >= kMinTiledTokens && HWY_DYNAMIC_DISPATCH(HasTiled)(type); }

}  // namespace
}  // namespace quant

namespace {

// Whether QuantMatMul and its relatives handle W: a block format, whole blocks per row.
bool Handles(const WeightMatrix& W) {
  switch (W.dtype) {
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::Q8_0:
    case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: case DType::Q8_K:
      return W.cols > 0 && W.cols % BlockElems(W.dtype) == 0;
    default:
      return false;
  }
}

// The calling thread's activation buffers, shared by every entry point below (calls do not
// nest) and read by the pool's workers during a call.
struct CallerActs {
  quant::QuantizedActs acts;
  quant::DecodeActsBuf decode;
  quant::PanelActsBuf panel;
};
CallerActs& ThisThreadActs() {
  thread_local CallerActs buffers;
  return buffers;
}

}  // namespace

bool QuantMatVecRows(const WeightMatrix& W, const int32_t* rows, int64_t n, const float* x, float* y,
                     ThreadPool* pool) {
  if (!Handles(W)) return false;
  CallerActs& b = ThisThreadActs();
  const quant::ActView& a = b.acts.Quantize(W.dtype, x, 1, W.cols, pool);
  const quant::DecodeActs* da = b.decode.Build(W.dtype, a);
  const auto gemv = quant::ChosenGemvRowList();
  ParallelFor(
      pool, n, [&](int64_t k0, int64_t k1) { gemv(W.dtype, W.data, W.row_stride, rows + k0, k1 - k0, W.cols, &a, da, y + k0); },
      16);
  return true;
}

bool QuantMatMulTokenLists(const WeightMatrix& W, const float* X, int64_t T, const int64_t* offsets,
                           const int32_t* tokens, float* Y, int64_t ldy, ThreadPool* pool) {
  if (!Handles(W)) return false;
  CallerActs& b = ThisThreadActs();
  const quant::ActView& a = b.acts.Quantize(W.dtype, X, T, W.cols, pool);
  const quant::DecodeActs* da = b.decode.Build(W.dtype, a);
  const auto gemv = quant::ChosenGemvRowTokens();
  ParallelFor(
      pool, W.rows,
      [&](int64_t r0, int64_t r1) { gemv(W.dtype, W.data, W.row_stride, r0, r1, W.cols, &a, da, offsets, tokens, Y, ldy); },
      16);
  return true;
}

bool QuantMatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy, ThreadPool* pool) {
  if (!Handles(W)) return false;
  if (T <= 0 || W.rows <= 0) return true;
  CallerActs& b = ThisThreadActs();
  const quant::ActView& a = b.acts.Quantize(W.dtype, X, T, W.cols, pool);
  if (quant::UseTiled(W.dtype, T)) {
    const quant::PanelActs& pa = b.panel.Build(W.dtype, a);
    const auto gemm = quant::ChosenGemmRange();
    // Whole 16-row groups per thread, so no panel straddles two threads.
    const int64_t groups = (W.rows + 15) / 16;
    ParallelFor(pool, groups, [&](int64_t g0, int64_t g1) {
      gemm(W.dtype, W.data, W.row_stride, g0 * 16, std::min(W.rows, g1 * 16), W.cols, &a, &pa, Y, ldy);
    });
    return true;
  }
  const quant::DecodeActs* da = b.decode.Build(W.dtype, a);
  const auto gemv = quant::ChosenGemvRange();
  // Rows split across threads; each chunk streams its rows once per four tokens.
  ParallelFor(
      pool, W.rows,
      [&](int64_t r0, int64_t r1) { gemv(W.dtype, W.data, W.row_stride, r0, r1, W.cols, &a, da, 0, T, Y, ldy); },
      16);
  return true;
}

const char* QuantKernelFor(DType dtype, int64_t T) { return quant::UseTiled(dtype, T) ? "tiled" : "direct"; }

namespace quant {
namespace {
const char* ChosenTargetName() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }
}  // namespace
}  // namespace quant

const char* QuantKernelTarget() { return quant::ChosenTargetName(); }

}  // namespace g3n
#endif  // HWY_ONCE
