// SIMD matmul / dot kernels, compiled for every Highway target and picked at run time.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/matmul_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/ops.h"
#include "kernels/quant/quant_matmul.h"

HWY_BEFORE_NAMESPACE();
namespace g3n {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;

HWY_INLINE hn::Vec<DF> LoadRow(DF df, const float* p) { return hn::LoadU(df, p); }
HWY_INLINE hn::Vec<DF> LoadRow(DF df, const hwy::bfloat16_t* p) {
  const hn::Rebind<hwy::bfloat16_t, DF> dbf;
  return hn::PromoteTo(df, hn::LoadU(dbf, p));
}
HWY_INLINE hn::Vec<DF> LoadRow(DF df, const hwy::float16_t* p) {
  const hn::Rebind<hwy::float16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, p));
}
HWY_INLINE float ToF32(float v) { return v; }
HWY_INLINE float ToF32(hwy::bfloat16_t v) { return hwy::F32FromBF16(v); }
HWY_INLINE float ToF32(hwy::float16_t v) {  // a struct on x86, __fp16 on Arm: go through the bits
  uint16_t bits;
  std::memcpy(&bits, &v, 2);
  return F16ToF32(bits);
}

HWY_INLINE float SumLanes(DF df, hn::Vec<DF> v) { return hn::GetLane(hn::SumOfLanes(df, v)); }

// One weight row against four token rows: the weight vector is loaded (and widened) once.
template <typename WT>
HWY_INLINE void Row4(const WT* w, const float* x, int64_t ldx, int64_t cols, float* out4) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
  const float* x0 = x;
  const float* x1 = x + ldx;
  const float* x2 = x + 2 * ldx;
  const float* x3 = x + 3 * ldx;
  int64_t c = 0;
  for (; c + N <= cols; c += N) {
    const auto wv = LoadRow(df, w + c);
    a0 = hn::MulAdd(wv, hn::LoadU(df, x0 + c), a0);
    a1 = hn::MulAdd(wv, hn::LoadU(df, x1 + c), a1);
    a2 = hn::MulAdd(wv, hn::LoadU(df, x2 + c), a2);
    a3 = hn::MulAdd(wv, hn::LoadU(df, x3 + c), a3);
  }
  float s0 = SumLanes(df, a0), s1 = SumLanes(df, a1), s2 = SumLanes(df, a2),
        s3 = SumLanes(df, a3);
  for (; c < cols; ++c) {
    const float wf = ToF32(w[c]);
    s0 += wf * x0[c];
    s1 += wf * x1[c];
    s2 += wf * x2[c];
    s3 += wf * x3[c];
  }
  out4[0] = s0;
  out4[1] = s1;
  out4[2] = s2;
  out4[3] = s3;
}

template <typename WT>
HWY_INLINE float Row1(const WT* w, const float* x, int64_t cols) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto a0 = hn::Zero(df), a1 = hn::Zero(df);
  int64_t c = 0;
  for (; c + 2 * N <= cols; c += 2 * N) {
    a0 = hn::MulAdd(LoadRow(df, w + c), hn::LoadU(df, x + c), a0);
    a1 = hn::MulAdd(LoadRow(df, w + c + N), hn::LoadU(df, x + c + N), a1);
  }
  for (; c + N <= cols; c += N) a0 = hn::MulAdd(LoadRow(df, w + c), hn::LoadU(df, x + c), a0);
  float s = SumLanes(df, hn::Add(a0, a1));
  for (; c < cols; ++c) s += ToF32(w[c]) * x[c];
  return s;
}

// Four weight rows against four token rows: 16 accumulators, 8 loads per 16 FMAs.
template <typename WT>
HWY_INLINE void Tile4x4(const uint8_t* data, size_t stride, int64_t r, const float* x, int64_t cols, int64_t t,
                        float* Y, int64_t ldy) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const WT* w0 = reinterpret_cast<const WT*>(data + static_cast<size_t>(r) * stride);
  const WT* w1 = reinterpret_cast<const WT*>(data + static_cast<size_t>(r + 1) * stride);
  const WT* w2 = reinterpret_cast<const WT*>(data + static_cast<size_t>(r + 2) * stride);
  const WT* w3 = reinterpret_cast<const WT*>(data + static_cast<size_t>(r + 3) * stride);
  const float* x0 = x;
  const float* x1 = x + cols;
  const float* x2 = x + 2 * cols;
  const float* x3 = x + 3 * cols;
  auto a00 = hn::Zero(df), a01 = hn::Zero(df), a02 = hn::Zero(df), a03 = hn::Zero(df);
  auto a10 = hn::Zero(df), a11 = hn::Zero(df), a12 = hn::Zero(df), a13 = hn::Zero(df);
  auto a20 = hn::Zero(df), a21 = hn::Zero(df), a22 = hn::Zero(df), a23 = hn::Zero(df);
  auto a30 = hn::Zero(df), a31 = hn::Zero(df), a32 = hn::Zero(df), a33 = hn::Zero(df);
  int64_t c = 0;
  for (; c + N <= cols; c += N) {
    const auto v0 = hn::LoadU(df, x0 + c), v1 = hn::LoadU(df, x1 + c), v2 = hn::LoadU(df, x2 + c),
               v3 = hn::LoadU(df, x3 + c);
    auto w = LoadRow(df, w0 + c);
    a00 = hn::MulAdd(w, v0, a00); a01 = hn::MulAdd(w, v1, a01); a02 = hn::MulAdd(w, v2, a02); a03 = hn::MulAdd(w, v3, a03);
    w = LoadRow(df, w1 + c);
    a10 = hn::MulAdd(w, v0, a10); a11 = hn::MulAdd(w, v1, a11); a12 = hn::MulAdd(w, v2, a12); a13 = hn::MulAdd(w, v3, a13);
    w = LoadRow(df, w2 + c);
    a20 = hn::MulAdd(w, v0, a20); a21 = hn::MulAdd(w, v1, a21); a22 = hn::MulAdd(w, v2, a22); a23 = hn::MulAdd(w, v3, a23);
    w = LoadRow(df, w3 + c);
    a30 = hn::MulAdd(w, v0, a30); a31 = hn::MulAdd(w, v1, a31); a32 = hn::MulAdd(w, v2, a32); a33 = hn::MulAdd(w, v3, a33);
  }
  float s[4][4] = {{SumLanes(df, a00), SumLanes(df, a01), SumLanes(df, a02), SumLanes(df, a03)},
                   {SumLanes(df, a10), SumLanes(df, a11), SumLanes(df, a12), SumLanes(df, a13)},
                   {SumLanes(df, a20), SumLanes(df, a21), SumLanes(df, a22), SumLanes(df, a23)},
                   {SumLanes(df, a30), SumLanes(df, a31), SumLanes(df, a32), SumLanes(df, a33)}};
  const WT* ws[4] = {w0, w1, w2, w3};
  const float* xs[4] = {x0, x1, x2, x3};
  for (; c < cols; ++c)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) s[i][j] += ToF32(ws[i][c]) * xs[j][c];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) Y[(t + j) * ldy + r + i] = s[i][j];
}

// Token blocks keep a slab of X in L2 while every weight row of the range passes over it.
template <typename WT>
void RowsImpl(const uint8_t* data, size_t row_stride, int64_t r0, int64_t r1, int64_t cols, const float* X,
              int64_t T, float* Y, int64_t ldy) {
  constexpr int64_t kTokenBlock = 32;
  float out4[4];
  for (int64_t tb = 0; tb < T; tb += kTokenBlock) {
    const int64_t te = std::min(T, tb + kTokenBlock);
    int64_t r = r0;
    if (te - tb >= 4) {
      for (; r + 4 <= r1; r += 4) {
        int64_t t = tb;
        for (; t + 4 <= te; t += 4) Tile4x4<WT>(data, row_stride, r, X + t * cols, cols, t, Y, ldy);
        for (; t < te; ++t)
          for (int64_t i = 0; i < 4; ++i)
            Y[t * ldy + r + i] =
                Row1(reinterpret_cast<const WT*>(data + static_cast<size_t>(r + i) * row_stride), X + t * cols, cols);
      }
    }
    for (; r < r1; ++r) {
      const WT* w = reinterpret_cast<const WT*>(data + static_cast<size_t>(r) * row_stride);
      int64_t t = tb;
      for (; t + 4 <= te; t += 4) {
        Row4(w, X + t * cols, cols, cols, out4);
        for (int k = 0; k < 4; ++k) Y[(t + k) * ldy + r] = out4[k];
      }
      for (; t < te; ++t) Y[t * ldy + r] = Row1(w, X + t * cols, cols);
    }
  }
}

void MatMulRowsF32(const uint8_t* d, size_t s, int64_t r0, int64_t r1, int64_t c, const float* X, int64_t T,
                   float* Y, int64_t ldy) {
  RowsImpl<float>(d, s, r0, r1, c, X, T, Y, ldy);
}
void MatMulRowsBF16(const uint8_t* d, size_t s, int64_t r0, int64_t r1, int64_t c, const float* X, int64_t T,
                    float* Y, int64_t ldy) {
  RowsImpl<hwy::bfloat16_t>(d, s, r0, r1, c, X, T, Y, ldy);
}
void MatMulRowsF16(const uint8_t* d, size_t s, int64_t r0, int64_t r1, int64_t c, const float* X, int64_t T,
                   float* Y, int64_t ldy) {
  RowsImpl<hwy::float16_t>(d, s, r0, r1, c, X, T, Y, ldy);
}

float DotF32(const float* a, const float* b, int64_t n) { return Row1(a, b, n); }

void AxpyF32(float alpha, const float* x, float* y, int64_t n) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto va = hn::Set(df, alpha);
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(hn::MulAdd(va, hn::LoadU(df, x + i), hn::LoadU(df, y + i)), df, y + i);
  for (; i < n; ++i) y[i] += alpha * x[i];
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace g3n {

HWY_EXPORT(MatMulRowsF32);
HWY_EXPORT(MatMulRowsBF16);
HWY_EXPORT(MatMulRowsF16);
HWY_EXPORT(DotF32);
HWY_EXPORT(AxpyF32);
HWY_EXPORT(TargetName);

void RowDotMatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy, ThreadPool* pool) {
  using RowsFn = void (*)(const uint8_t*, size_t, int64_t, int64_t, int64_t, const float*, int64_t, float*, int64_t);
  RowsFn fn = nullptr;
  switch (W.dtype) {
    case DType::F32: fn = HWY_DYNAMIC_DISPATCH(MatMulRowsF32); break;
    case DType::BF16: fn = HWY_DYNAMIC_DISPATCH(MatMulRowsBF16); break;
    case DType::F16: fn = HWY_DYNAMIC_DISPATCH(MatMulRowsF16); break;
    default: return;  // MatMul routes every other type elsewhere
  }
  // Split by output rows; small chunks keep both threads busy on narrow matrices.
  const int64_t grain = std::max<int64_t>(4, 8192 / std::max<int64_t>(1, W.cols * T));
  ParallelFor(pool, W.rows, [&](int64_t r0, int64_t r1) { fn(W.data, W.row_stride, r0, r1, W.cols, X, T, Y, ldy); },
              grain);
}

void MatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy, ThreadPool* pool) {
  switch (W.dtype) {
    case DType::F32:
    case DType::BF16:
    case DType::F16:
      if (T >= kGemmMinRows) {
        GemmMatMul(W, X, T, Y, ldy, pool);
      } else {
        RowDotMatMul(W, X, T, Y, ldy, pool);
      }
      return;
    default:
      QuantMatMul(W, X, T, Y, ldy, pool);  // block formats; other types are rejected at load
      return;
  }
}

void MatVecRows(const WeightMatrix& W, const int32_t* rows, int64_t n, const float* x, float* y, ThreadPool* pool) {
  if (n <= 0 || QuantMatVecRows(W, rows, n, x, y, pool)) return;
  ParallelFor(pool, n, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      WeightMatrix row = W;
      row.data = W.row(rows[k]);
      row.rows = 1;
      MatMul(row, x, 1, &y[k], 1, nullptr);
    }
  }, 16);
}

void MatMulMasked(const WeightMatrix& W, const float* X, int64_t T, const float* mask, float* Y, int64_t ldy,
                  ThreadPool* pool) {
  if (T <= 0 || W.rows <= 0) return;
  // Token lists per row (CSR): offsets[r] .. offsets[r + 1] index `tokens`.
  thread_local std::vector<int64_t> offsets_buf;
  thread_local std::vector<int32_t> tokens_buf;
  std::vector<int64_t>& offsets = offsets_buf;
  std::vector<int32_t>& tokens = tokens_buf;
  offsets.assign(static_cast<size_t>(W.rows + 1), 0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t r = 0; r < W.rows; ++r) offsets[r + 1] += mask[t * ldy + r] != 0.0f;
  for (int64_t r = 0; r < W.rows; ++r) offsets[r + 1] += offsets[r];
  tokens.resize(static_cast<size_t>(offsets[W.rows]));
  {
    std::vector<int64_t> fill(offsets.begin(), offsets.end() - 1);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t r = 0; r < W.rows; ++r)
        if (mask[t * ldy + r] != 0.0f) tokens[fill[r]++] = static_cast<int32_t>(t);
  }
  if (QuantMatMulTokenLists(W, X, T, offsets.data(), tokens.data(), Y, ldy, pool)) return;
  // Float weights: each used row converted once, then one dot product per token.
  ParallelFor(pool, W.rows, [&](int64_t r0, int64_t r1) {
    std::vector<float> row(static_cast<size_t>(W.cols));
    for (int64_t r = r0; r < r1; ++r) {
      if (offsets[r] == offsets[r + 1]) continue;
      RowToF32(W.dtype, W.row(r), W.cols, row.data());
      for (int64_t k = offsets[r]; k < offsets[r + 1]; ++k) {
        const int64_t t = tokens[k];
        Y[t * ldy + r] = Dot(row.data(), X + t * W.cols, W.cols);
      }
    }
  }, 16);
}

float Dot(const float* a, const float* b, int64_t n) { return HWY_DYNAMIC_DISPATCH(DotF32)(a, b, n); }
void Axpy(float a, const float* x, float* y, int64_t n) { HWY_DYNAMIC_DISPATCH(AxpyF32)(a, x, y, n); }
const char* KernelTargetName() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

}  // namespace g3n
#endif
