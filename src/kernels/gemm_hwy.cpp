// Blocked GEMM for float weights, compiled per Highway target and picked at run time.
//
// Y = X * W^T with W stored [N, K] (one row per output). Weights are the wide operand: a block of
// them is converted to f32 and transposed into panels of kNV vectors of outputs ([k][NRL]), so
// the micro-kernel reads them with plain vector loads and never widens bf16/f16 in its loop.
// Activations are the broadcast operand: a strip of kMR token rows is transposed to [k][kMR].
// Each step of the micro-kernel is then kNV loads, kMR broadcasts and kMR * kNV independent FMAs.
//
// Cache plan (per thread): the X strip (kMR x kKC floats, 8 KiB) stays in L1 while every weight
// panel of the block (kKC x NC floats, about 1 MiB) streams past it from L2; the block is packed
// once per (N block, K block) and reused by every token strip, which is the reuse the old
// row-dot kernel lacked (it re-read all weights for every 32 tokens).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemm_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/aligned_allocator.h>

#include <algorithm>
#include <cstring>

#include "io/dtype.h"
#include "kernels/gemm.h"

HWY_BEFORE_NAMESPACE();
namespace g3n {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using V = hn::Vec<DF>;

// Register tile: kMR * kNV accumulators + kNV weight vectors + one broadcast must fit the
// register file (32 vector registers on AVX-512 and Arm, 16 on AVX2/SSE).
#if HWY_ARCH_X86 && (HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL)
constexpr int kMR = 8;
constexpr int kNV = 3;
#elif HWY_ARCH_X86 && (HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3)
constexpr int kMR = 6;
constexpr int kNV = 2;
#elif HWY_ARCH_ARM_A64 && HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR
constexpr int kMR = 8;
constexpr int kNV = 3;
#else
constexpr int kMR = 4;
constexpr int kNV = 2;
#endif
// Depth of one packed block: keeps the X strip at 8 KiB (L1) and one weight panel at
// kKC * NRL floats.
constexpr int64_t kKC = 256;
// Outputs per packed weight block: kKC x kNC floats is 1 MiB, half of a 2 MiB L2.
constexpr int64_t kNC = 1024;

HWY_INLINE float ToF32(float v) { return v; }
HWY_INLINE float ToF32(hwy::bfloat16_t v) { return hwy::F32FromBF16(v); }
HWY_INLINE float ToF32(hwy::float16_t v) {  // a struct on x86, __fp16 on Arm: go through the bits
  uint16_t bits;
  std::memcpy(&bits, &v, 2);
  return F16ToF32(bits);
}

// Grow-only scratch, one per thread, so repeated calls (every layer of an encoder) do not
// allocate.
struct Scratch {
  hwy::AlignedFreeUniquePtr<float[]> buf;
  size_t size = 0;
  float* Get(size_t n) {
    if (n > size) {
      buf = hwy::AllocateAligned<float>(n);
      size = n;
    }
    return buf.get();
  }
};

#if HWY_TARGET != HWY_SCALAR
using D4 = hn::FixedTag<float, 4>;
HWY_INLINE hn::Vec<D4> Load4(D4 d, const float* p) { return hn::LoadU(d, p); }
HWY_INLINE hn::Vec<D4> Load4(D4 d, const hwy::bfloat16_t* p) {
  return hn::PromoteTo(d, hn::LoadU(hn::Rebind<hwy::bfloat16_t, D4>(), p));
}
HWY_INLINE hn::Vec<D4> Load4(D4 d, const hwy::float16_t* p) {
  return hn::PromoteTo(d, hn::LoadU(hn::Rebind<hwy::float16_t, D4>(), p));
}
#endif

// One panel: panel[k][j] = W[n0 + j][k0 + k] for j < valid, zeros for the outputs past the end
// of the matrix so the micro-kernel never needs a column tail. The transpose goes 4x4 through
// 128-bit registers (16 values in 8 shuffles and 4 stores), which matters below a few hundred
// tokens where packing is a visible share of the time.
template <typename WT>
void PackPanel(const uint8_t* data, size_t stride, int64_t n0, int64_t valid, int64_t k0, int64_t klen, int64_t nrl,
               float* HWY_RESTRICT panel) {
  const auto src = [&](int64_t j) {
    return reinterpret_cast<const WT*>(data + static_cast<size_t>(n0 + j) * stride) + k0;
  };
  int64_t j = 0;
#if HWY_TARGET != HWY_SCALAR
  // 4 outputs at a time over the whole depth: each source row is read sequentially, which beat
  // finishing 4 panel rows at a time (k outer) by up to 1.5x on long rows (K = 6144).
  const D4 d4;
  for (; j + 4 <= valid; j += 4) {
    const WT *s0 = src(j), *s1 = src(j + 1), *s2 = src(j + 2), *s3 = src(j + 3);
    int64_t k = 0;
    for (; k + 4 <= klen; k += 4) {
      const auto r0 = Load4(d4, s0 + k), r1 = Load4(d4, s1 + k), r2 = Load4(d4, s2 + k), r3 = Load4(d4, s3 + k);
      const auto t0 = hn::InterleaveLower(d4, r0, r2), t1 = hn::InterleaveLower(d4, r1, r3);
      const auto t2 = hn::InterleaveUpper(d4, r0, r2), t3 = hn::InterleaveUpper(d4, r1, r3);
      float* HWY_RESTRICT out = panel + k * nrl + j;
      hn::StoreU(hn::InterleaveLower(d4, t0, t1), d4, out);
      hn::StoreU(hn::InterleaveUpper(d4, t0, t1), d4, out + nrl);
      hn::StoreU(hn::InterleaveLower(d4, t2, t3), d4, out + 2 * nrl);
      hn::StoreU(hn::InterleaveUpper(d4, t2, t3), d4, out + 3 * nrl);
    }
    for (; k < klen; ++k) {
      float* HWY_RESTRICT out = panel + k * nrl + j;
      out[0] = ToF32(s0[k]);
      out[1] = ToF32(s1[k]);
      out[2] = ToF32(s2[k]);
      out[3] = ToF32(s3[k]);
    }
  }
#endif
  for (; j < valid; ++j) {
    const WT* s = src(j);
    for (int64_t k = 0; k < klen; ++k) panel[k * nrl + j] = ToF32(s[k]);
  }
  for (; j < nrl; ++j)
    for (int64_t k = 0; k < klen; ++k) panel[k * nrl + j] = 0.0f;
}

// The block of outputs [n0, n0 + nlen) as consecutive panels of nrl outputs, klen deep.
template <typename WT>
void PackW(const uint8_t* data, size_t stride, int64_t n0, int64_t nlen, int64_t k0, int64_t klen, int64_t nrl,
           float* HWY_RESTRICT dst) {
  for (int64_t p = 0; p * nrl < nlen; ++p)
    PackPanel<WT>(data, stride, n0 + p * nrl, std::min(nrl, nlen - p * nrl), k0, klen, nrl, dst + p * klen * nrl);
}

// dst[k][i] = X[t0 + i][k0 + k] for i < mr, zeros for the missing rows of a short last strip.
HWY_INLINE void PackX(const float* HWY_RESTRICT x, int64_t ldx, int64_t mr, int64_t klen, float* HWY_RESTRICT dst) {
  for (int64_t i = 0; i < mr; ++i) {
    const float* HWY_RESTRICT src = x + i * ldx;
    for (int64_t k = 0; k < klen; ++k) dst[k * kMR + i] = src[k];
  }
  for (int64_t i = mr; i < kMR; ++i)
    for (int64_t k = 0; k < klen; ++k) dst[k * kMR + i] = 0.0f;
}

// Accumulators are named variables, not an array: SVE vectors are sizeless and cannot be
// array elements. Rows beyond kMR and vectors beyond kNV compile away.
#define G3N_DECL_ROW(i) [[maybe_unused]] V c##i##_0 = z, c##i##_1 = z, c##i##_2 = z;
#define G3N_FMA_ROW(i)                                          \
  if constexpr (kMR > i) {                                      \
    const V a = hn::Set(df, xp[i]);                             \
    c##i##_0 = hn::MulAdd(a, b0, c##i##_0);                     \
    if constexpr (NV > 1) c##i##_1 = hn::MulAdd(a, b1, c##i##_1); \
    if constexpr (NV > 2) c##i##_2 = hn::MulAdd(a, b2, c##i##_2); \
  }
#define G3N_STORE_ROW(i)                                                   \
  if constexpr (kMR > i) {                                                 \
    float* yr = y + (i) * ldy;                                             \
    if (accumulate) {                                                      \
      c##i##_0 = hn::Add(c##i##_0, hn::LoadU(df, yr));                     \
      if constexpr (NV > 1) c##i##_1 = hn::Add(c##i##_1, hn::LoadU(df, yr + L));     \
      if constexpr (NV > 2) c##i##_2 = hn::Add(c##i##_2, hn::LoadU(df, yr + 2 * L)); \
    }                                                                      \
    hn::StoreU(c##i##_0, df, yr);                                          \
    if constexpr (NV > 1) hn::StoreU(c##i##_1, df, yr + L);                \
    if constexpr (NV > 2) hn::StoreU(c##i##_2, df, yr + 2 * L);            \
  }

// One kMR x (NV * L) tile of Y over klen steps of k, reading the first NV vectors of each
// packed row (NV < kNV: the last panel of a narrow matrix, e.g. 64 outputs = 48 + 16, which
// would otherwise waste two thirds of its FMAs); adds to Y when `accumulate` (every K block
// after the first).
template <int NV>
HWY_INLINE void MicroKernel(const float* HWY_RESTRICT xp, const float* HWY_RESTRICT wp, int64_t klen, int64_t nrl,
                            float* HWY_RESTRICT y, int64_t ldy, bool accumulate) {
  const DF df;
  const int64_t L = static_cast<int64_t>(hn::Lanes(df));
  const V z = hn::Zero(df);
  G3N_DECL_ROW(0) G3N_DECL_ROW(1) G3N_DECL_ROW(2) G3N_DECL_ROW(3) G3N_DECL_ROW(4) G3N_DECL_ROW(5)
  G3N_DECL_ROW(6) G3N_DECL_ROW(7) G3N_DECL_ROW(8) G3N_DECL_ROW(9) G3N_DECL_ROW(10) G3N_DECL_ROW(11)
  G3N_DECL_ROW(12) G3N_DECL_ROW(13)
  for (int64_t k = 0; k < klen; ++k, xp += kMR, wp += nrl) {
    const V b0 = hn::Load(df, wp);
    const V b1 = hn::Load(df, wp + (NV > 1 ? L : 0));
    const V b2 = hn::Load(df, wp + (NV > 2 ? 2 * L : 0));
    G3N_FMA_ROW(0) G3N_FMA_ROW(1) G3N_FMA_ROW(2) G3N_FMA_ROW(3) G3N_FMA_ROW(4) G3N_FMA_ROW(5)
    G3N_FMA_ROW(6) G3N_FMA_ROW(7) G3N_FMA_ROW(8) G3N_FMA_ROW(9) G3N_FMA_ROW(10) G3N_FMA_ROW(11)
    G3N_FMA_ROW(12) G3N_FMA_ROW(13)
  }
  G3N_STORE_ROW(0) G3N_STORE_ROW(1) G3N_STORE_ROW(2) G3N_STORE_ROW(3) G3N_STORE_ROW(4) G3N_STORE_ROW(5)
  G3N_STORE_ROW(6) G3N_STORE_ROW(7) G3N_STORE_ROW(8) G3N_STORE_ROW(9) G3N_STORE_ROW(10) G3N_STORE_ROW(11)
  G3N_STORE_ROW(12) G3N_STORE_ROW(13)
}
#undef G3N_DECL_ROW
#undef G3N_FMA_ROW
#undef G3N_STORE_ROW
static_assert(kMR <= 14 && kNV >= 2 && kNV <= 3, "MicroKernel spells out at most 14 rows of 3 vectors");

struct ThreadScratch {
  Scratch w, x, tile;
};
ThreadScratch& GetThreadScratch() {
  thread_local ThreadScratch s;
  return s;
}

// Y[t0..t1) x [n0..n1) on one thread.
template <typename WT>
void GemmRange(const uint8_t* data, size_t stride, int64_t K, const float* X, float* Y, int64_t ldy, int64_t t0,
               int64_t t1, int64_t n0, int64_t n1) {
  const DF df;
  const int64_t L = static_cast<int64_t>(hn::Lanes(df));
  const int64_t nrl = kNV * L;
  const int64_t nc = std::max<int64_t>(1, kNC / nrl) * nrl;
  // One set per thread and target, shared by the weight types: about 1 MiB in all.
  ThreadScratch& s = GetThreadScratch();
  float* wpack = s.w.Get(static_cast<size_t>(std::min(kKC, K) * nc));
  float* xpack = s.x.Get(static_cast<size_t>(kKC * kMR));
  float* tile = s.tile.Get(static_cast<size_t>(kMR * nrl));
  for (int64_t nb = n0; nb < n1; nb += nc) {
    const int64_t nlen = std::min(nc, n1 - nb);
    for (int64_t kb = 0; kb < K; kb += kKC) {
      const int64_t klen = std::min(kKC, K - kb);
      const bool accumulate = kb > 0;
      PackW<WT>(data, stride, nb, nlen, kb, klen, nrl, wpack);
      for (int64_t t = t0; t < t1; t += kMR) {
        const int64_t mr = std::min<int64_t>(kMR, t1 - t);
        PackX(X + t * K + kb, K, mr, klen, xpack);
        for (int64_t j = 0; j < nlen; j += nrl) {
          const int64_t nr = std::min(nrl, nlen - j);
          const float* wp = wpack + j * klen;
          float* y = Y + t * ldy + nb + j;
          const int64_t nv = (nr + L - 1) / L;
          // Full rows and whole vectors go straight to Y; otherwise via the scratch tile.
          const bool direct = mr == kMR && nr == nv * L;
          float* out = direct ? y : tile;
          const int64_t ldo = direct ? ldy : nrl;
          const bool acc = direct && accumulate;
          if (nv >= kNV) {
            MicroKernel<kNV>(xpack, wp, klen, nrl, out, ldo, acc);
          } else if (nv == 2) {
            MicroKernel<2>(xpack, wp, klen, nrl, out, ldo, acc);
          } else {
            MicroKernel<1>(xpack, wp, klen, nrl, out, ldo, acc);
          }
          if (direct) continue;
          for (int64_t i = 0; i < mr; ++i)
            for (int64_t c = 0; c < nr; ++c)
              y[i * ldy + c] = accumulate ? y[i * ldy + c] + tile[i * nrl + c] : tile[i * nrl + c];
        }
      }
    }
  }
}

// Splits the output over threads: by output columns (each thread packs only its own weights)
// when there are enough panels, otherwise by token strips (each thread packs the few weights).
template <typename WT>
void GemmImpl(const uint8_t* data, size_t stride, int64_t N, int64_t K, const float* X, int64_t T, float* Y,
              int64_t ldy, ThreadPool* pool) {
  const DF df;
  const int64_t nrl = kNV * static_cast<int64_t>(hn::Lanes(df));
  const int64_t threads = pool != nullptr ? pool->size() : 1;
  const int64_t panels = (N + nrl - 1) / nrl;
  const int64_t strips = (T + kMR - 1) / kMR;
  const bool split_n = panels >= 2 * threads || strips < threads;
  ParallelFor(pool, threads, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      if (split_n) {
        const int64_t p0 = panels * i / threads, p1 = panels * (i + 1) / threads;
        if (p0 < p1) GemmRange<WT>(data, stride, K, X, Y, ldy, 0, T, p0 * nrl, std::min(N, p1 * nrl));
      } else {
        const int64_t s0 = strips * i / threads, s1 = strips * (i + 1) / threads;
        if (s0 < s1) GemmRange<WT>(data, stride, K, X, Y, ldy, s0 * kMR, std::min(T, s1 * kMR), 0, N);
      }
    }
  });
}

void GemmF32(const uint8_t* d, size_t s, int64_t N, int64_t K, const float* X, int64_t T, float* Y, int64_t ldy,
             ThreadPool* pool) {
  GemmImpl<float>(d, s, N, K, X, T, Y, ldy, pool);
}
void GemmBF16(const uint8_t* d, size_t s, int64_t N, int64_t K, const float* X, int64_t T, float* Y, int64_t ldy,
              ThreadPool* pool) {
  GemmImpl<hwy::bfloat16_t>(d, s, N, K, X, T, Y, ldy, pool);
}
void GemmF16(const uint8_t* d, size_t s, int64_t N, int64_t K, const float* X, int64_t T, float* Y, int64_t ldy,
             ThreadPool* pool) {
  GemmImpl<hwy::float16_t>(d, s, N, K, X, T, Y, ldy, pool);
}

}  // namespace HWY_NAMESPACE
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace g3n {

HWY_EXPORT(GemmF32);
HWY_EXPORT(GemmBF16);
HWY_EXPORT(GemmF16);

void GemmMatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy, ThreadPool* pool) {
  if (T <= 0 || W.rows <= 0) return;
  if (W.cols <= 0) {  // an empty sum: nothing would write Y otherwise
    for (int64_t t = 0; t < T; ++t) std::fill(Y + t * ldy, Y + t * ldy + W.rows, 0.0f);
    return;
  }
  switch (W.dtype) {
    case DType::F32: HWY_DYNAMIC_DISPATCH(GemmF32)(W.data, W.row_stride, W.rows, W.cols, X, T, Y, ldy, pool); break;
    case DType::BF16: HWY_DYNAMIC_DISPATCH(GemmBF16)(W.data, W.row_stride, W.rows, W.cols, X, T, Y, ldy, pool); break;
    case DType::F16: HWY_DYNAMIC_DISPATCH(GemmF16)(W.data, W.row_stride, W.rows, W.cols, X, T, Y, ldy, pool); break;
    default: break;  // MatMul routes every other type elsewhere
  }
}

}  // namespace g3n
#endif
