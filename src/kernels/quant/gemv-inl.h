// Direct quantized kernels: weight rows read as ggml stores them, one row against up to four
// tokens, so each block is unpacked once for all of them. This is the decode path (T = 1,
// memory-bound: the weights stream through once) and the fallback for targets without a
// tiled kernel. Per block the integer dot product is scaled by d_w * d_x; zero points and
// mins become one multiply with the activation block's sum (ActView::ds32 / sum16).

#if defined(G3N_KERNELS_QUANT_GEMV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef G3N_KERNELS_QUANT_GEMV_INL_H_
#undef G3N_KERNELS_QUANT_GEMV_INL_H_
#else
#define G3N_KERNELS_QUANT_GEMV_INL_H_
#endif

#include <algorithm>
#include <cstring>

#include "kernels/quant/act_quant.h"
#include "kernels/quant/int8_simd-inl.h"
#include "kernels/quant/quant_blocks.h"

HWY_BEFORE_NAMESPACE();
namespace g3n {
namespace quant {
namespace HWY_NAMESPACE {
#if G3N_QUANT_VNNI
#pragma GCC target("avx512vnni")  // see int8_simd-inl.h
#endif

// ---- 32-element formats: how to get a block's quants, scale and zero-point coefficient ----
// kOffset: value = d * q + offset per block, either a zero point (kZeroPoint: -zp * d) or a
// stored min; kNibbles: quants in [0, 16).

struct KQ4_0 {
  using Block = BlockQ4_0;
  static constexpr bool kSigned = false, kOffset = true, kZeroPoint = true, kNibbles = true;
  static HWY_INLINE B32 Quants(const Block& b) { return Nibbles16(b.qs); }
  static HWY_INLINE float Offset(const Block&, float d) { return -8.0f * d; }  // value = d * (q - 8)
};
struct KQ4_1 {
  using Block = BlockQ4_1;
  static constexpr bool kSigned = false, kOffset = true, kZeroPoint = false, kNibbles = true;
  static HWY_INLINE B32 Quants(const Block& b) { return Nibbles16(b.qs); }
  static HWY_INLINE float Offset(const Block& b, float) { return Half(b.m); }  // value = d * q + m
};
struct KQ5_0 {
  using Block = BlockQ5_0;
  static constexpr bool kSigned = false, kOffset = true, kZeroPoint = true, kNibbles = false;
  static HWY_INLINE B32 Quants(const Block& b) {
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    return Or(Nibbles16(b.qs), BitsToBytes10(qh));
  }
  static HWY_INLINE float Offset(const Block&, float d) { return -16.0f * d; }
};
struct KQ5_1 {
  using Block = BlockQ5_1;
  static constexpr bool kSigned = false, kOffset = true, kZeroPoint = false, kNibbles = false;
  static HWY_INLINE B32 Quants(const Block& b) {
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    return Or(Nibbles16(b.qs), BitsToBytes10(qh));
  }
  static HWY_INLINE float Offset(const Block& b, float) { return Half(b.m); }
};
struct KQ8_0 {
  using Block = BlockQ8_0;
  static constexpr bool kSigned = true, kOffset = false, kZeroPoint = false, kNibbles = false;
  static HWY_INLINE B32 Quants(const Block& b) { return LoadB(b.qs); }
  static HWY_INLINE float Offset(const Block&, float) { return 0.0f; }
};

}  // namespace HWY_NAMESPACE
}  // namespace quant
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#include "kernels/quant/gemv256-inl.h"
#include "kernels/quant/gemv512-inl.h"

HWY_BEFORE_NAMESPACE();
namespace g3n {
namespace quant {
namespace HWY_NAMESPACE {
#if G3N_QUANT_VNNI
#pragma GCC target("avx512vnni")
#endif

// One row of nb blocks against tokens t0..t0+NT-1. On AVX-512 (AVX2), whole groups of 16 (8)
// blocks go through RowDot512 (RowDot256) and the rest through the loop below. Two accumulator sets (even/odd
// blocks) keep the FMA chains from serialising a single-token stream.
template <class Q, int NT>
HWY_INLINE void RowDot32(const uint8_t* row, int64_t nb, const ActView& a, const DecodeActs* da, int64_t t0,
                         float* out) {
  const auto* blk = reinterpret_cast<const typename Q::Block*>(row);
  float head[NT] = {};
  int64_t b0 = 0;
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  using Z = typename ZFor<Q>::type;
  if constexpr (Decode512Supports<Z>()) {
    if (da != nullptr && nb >= 16) {
      RowDot512<Z, NT>(row, nb / 16, a, *da, t0, head);
      b0 = nb / 16 * 16;
    }
  }
#elif HWY_TARGET == HWY_AVX2
  if (da != nullptr && nb >= 8) {
    for (int t = 0; t < NT; ++t) {  // the row stays in L1 for the next token
      const int64_t tok = t0 + t;
      head[t] = RowDot256<Q>(row, nb / 8, {a.qt(tok), a.dt(tok), a.dst(tok), da->corr32 + tok * (a.K / 32)});
    }
    b0 = nb / 8 * 8;
  }
#endif
  VF acc0[NT], acc1[NT];
  float off0[NT], off1[NT];  // two chains, like acc0/acc1: one serial FMA chain bounds the loop
  const int8_t* xq[NT];
  const float* dx[NT];
  const float* ds[NT];
  for (int t = 0; t < NT; ++t) {
    acc0[t] = ZeroF();
    acc1[t] = ZeroF();
    off0[t] = off1[t] = 0.0f;
    xq[t] = a.qt(t0 + t);
    dx[t] = a.dt(t0 + t);
    ds[t] = a.dst(t0 + t);
  }
  auto step = [&](int64_t b, VF* acc, float* off) HWY_ATTR {
    Prefetch(reinterpret_cast<const uint8_t*>(blk + b) + 512);
    const B32 w = Q::Quants(blk[b]);
    const float dw = Half(blk[b].d);
    const float ow = Q::Offset(blk[b], dw);
    for (int t = 0; t < NT; ++t) {
      const B32 x = LoadB(xq[t] + 32 * b);
      const VI s = Q::kSigned ? DotSS(ZeroI(), w, x) : DotUS(ZeroI(), w, x);
      acc[t] = MulAdd(Cvt(s), Set1(dw * dx[t][b]), acc[t]);
      if (Q::kOffset) off[t] += ow * ds[t][b];
    }
  };
  int64_t b = b0;
  for (; b + 2 <= nb; b += 2) {
    step(b, acc0, off0);
    step(b + 1, acc1, off1);
  }
  if (b < nb) step(b, acc0, off0);
  for (int t = 0; t < NT; ++t) {
    out[t] = Reduce(Add(acc0[t], acc1[t])) + (off0[t] + off1[t]) + head[t];
  }
}

// ---- K formats (256-element super-blocks, Q8_K activations) ----
// Sub-block scales are small integers, so each super-block accumulates in int32 (applying them
// in the widening multiply) and meets the float scales d_w * d_x once.

// The 8 sub-block scales and mins of a Q4_K / Q5_K super-block.
HWY_INLINE void UnpackScalesK4(const uint8_t* s, int* sc, int* m) {
  uint32_t words[4];
  ScaleMinWordsK4(s, words);
  uint8_t b[16];
  std::memcpy(b, words, 16);
  for (int j = 0; j < 8; ++j) {
    sc[j] = b[j];
    m[j] = b[8 + j];
  }
}

template <int NT>
HWY_INLINE void RowDotQ4_K(const uint8_t* row, int64_t nsb, const ActView& a, int64_t t0, float* out) {
  const auto* blk = reinterpret_cast<const BlockQ4_K*>(row);
  VF acc[NT];
  float off[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = ZeroF();
    off[t] = 0.0f;
  }
  for (int64_t i = 0; i < nsb; ++i) {
    const BlockQ4_K& B = blk[i];
    Prefetch(reinterpret_cast<const uint8_t*>(&B) + 576);
    int sc[8], m[8];
    UnpackScalesK4(B.scales, sc, m);
    const float d = Half(B.d), dmin = Half(B.dmin);
    VI is[NT];
    for (int t = 0; t < NT; ++t) is[t] = ZeroI();
    for (int j = 0; j < 4; ++j) {
      const B32 q = LoadB(B.qs + 32 * j);
      const B32 lo = LowNibbles(q), hi = HighNibbles(q);
      for (int t = 0; t < NT; ++t) {
        const int8_t* x = a.qt(t0 + t) + 256 * i + 64 * j;
        is[t] = DotUSScale(is[t], lo, LoadB(x), sc[2 * j]);
        is[t] = DotUSScale(is[t], hi, LoadB(x + 32), sc[2 * j + 1]);
      }
    }
    for (int t = 0; t < NT; ++t) {
      const float dx = a.dt(t0 + t)[i];
      const int16_t* s16 = a.st(t0 + t) + 16 * i;
      int mins = 0;
      for (int j = 0; j < 8; ++j) mins += m[j] * (s16[2 * j] + s16[2 * j + 1]);
      acc[t] = MulAdd(Cvt(is[t]), Set1(d * dx), acc[t]);
      off[t] -= dmin * dx * static_cast<float>(mins);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = Reduce(acc[t]) + off[t];
}

template <int NT>
HWY_INLINE void RowDotQ5_K(const uint8_t* row, int64_t nsb, const ActView& a, int64_t t0, float* out) {
  const auto* blk = reinterpret_cast<const BlockQ5_K*>(row);
  VF acc[NT];
  float off[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = ZeroF();
    off[t] = 0.0f;
  }
  for (int64_t i = 0; i < nsb; ++i) {
    const BlockQ5_K& B = blk[i];
    Prefetch(reinterpret_cast<const uint8_t*>(&B) + 704);
    int sc[8], m[8];
    UnpackScalesK4(B.scales, sc, m);
    const float d = Half(B.d), dmin = Half(B.dmin);
    const B32 qh = LoadB(B.qh);
    VI is[NT];
    for (int t = 0; t < NT; ++t) is[t] = ZeroI();
    for (int j = 0; j < 4; ++j) {
      const B32 q = LoadB(B.qs + 32 * j);
      const B32 lo = Or(LowNibbles(q), BitsTo4(qh, 2 * j, 1));
      const B32 hi = Or(HighNibbles(q), BitsTo4(qh, 2 * j + 1, 1));
      for (int t = 0; t < NT; ++t) {
        const int8_t* x = a.qt(t0 + t) + 256 * i + 64 * j;
        is[t] = DotUSScale(is[t], lo, LoadB(x), sc[2 * j]);
        is[t] = DotUSScale(is[t], hi, LoadB(x + 32), sc[2 * j + 1]);
      }
    }
    for (int t = 0; t < NT; ++t) {
      const float dx = a.dt(t0 + t)[i];
      const int16_t* s16 = a.st(t0 + t) + 16 * i;
      int mins = 0;
      for (int j = 0; j < 8; ++j) mins += m[j] * (s16[2 * j] + s16[2 * j + 1]);
      acc[t] = MulAdd(Cvt(is[t]), Set1(d * dx), acc[t]);
      off[t] -= dmin * dx * static_cast<float>(mins);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = Reduce(acc[t]) + off[t];
}

template <int NT>
HWY_INLINE void RowDotQ6_K(const uint8_t* row, int64_t nsb, const ActView& a, int64_t t0, float* out) {
  const auto* blk = reinterpret_cast<const BlockQ6_K*>(row);
  VF acc[NT];
  float off[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = ZeroF();
    off[t] = 0.0f;
  }
  for (int64_t i = 0; i < nsb; ++i) {
    const BlockQ6_K& B = blk[i];
    Prefetch(reinterpret_cast<const uint8_t*>(&B) + 640);
    const float d = Half(B.d);
    VI is[NT];
    for (int t = 0; t < NT; ++t) is[t] = ZeroI();
    for (int h = 0; h < 2; ++h) {  // two halves of 128: ql[64h..], qh[32h..], scales[8h..]
      const B32 l0 = LoadB(B.ql + 64 * h), l1 = LoadB(B.ql + 64 * h + 32), qh = LoadB(B.qh + 32 * h);
      const int8_t* sc = B.scales + 8 * h;
      const B32 q[4] = {Or(LowNibbles(l0), BitsTo4(qh, 0, 3)), Or(LowNibbles(l1), BitsTo4(qh, 2, 3)),
                        Or(HighNibbles(l0), BitsTo4(qh, 4, 3)), Or(HighNibbles(l1), BitsTo4(qh, 6, 3))};
      for (int k = 0; k < 4; ++k)
        for (int t = 0; t < NT; ++t)
          is[t] = DotUSScaled(is[t], q[k], LoadB(a.qt(t0 + t) + 256 * i + 128 * h + 32 * k), sc[2 * k], sc[2 * k + 1]);
    }
    for (int t = 0; t < NT; ++t) {
      const float dx = a.dt(t0 + t)[i];
      const int16_t* s16 = a.st(t0 + t) + 16 * i;
      int zp = 0;  // the -32 zero point, weighted by each 16-group's scale
      for (int j = 0; j < 16; ++j) zp += B.scales[j] * s16[j];
      acc[t] = MulAdd(Cvt(is[t]), Set1(d * dx), acc[t]);
      off[t] -= 32.0f * d * dx * static_cast<float>(zp);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = Reduce(acc[t]) + off[t];
}

template <int NT>
HWY_INLINE void RowDotQ8_K(const uint8_t* row, int64_t nsb, const ActView& a, int64_t t0, float* out) {
  const auto* blk = reinterpret_cast<const BlockQ8_K*>(row);
  VF acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = ZeroF();
  for (int64_t i = 0; i < nsb; ++i) {
    const BlockQ8_K& B = blk[i];
    VI is[NT];
    for (int t = 0; t < NT; ++t) is[t] = ZeroI();
    for (int k = 0; k < 8; ++k) {
      const B32 w = LoadB(B.qs + 32 * k);
      for (int t = 0; t < NT; ++t) is[t] = DotSS(is[t], w, LoadB(a.qt(t0 + t) + 256 * i + 32 * k));
    }
    for (int t = 0; t < NT; ++t) acc[t] = MulAdd(Cvt(is[t]), Set1(B.d * a.dt(t0 + t)[i]), acc[t]);
  }
  for (int t = 0; t < NT; ++t) out[t] = Reduce(acc[t]);
}

template <int NT>
HWY_INLINE void RowDot(DType type, const uint8_t* row, int64_t cols, const ActView& a, const DecodeActs* da,
                       int64_t t0, float* out) {
  switch (type) {
    case DType::Q4_0: RowDot32<KQ4_0, NT>(row, cols / 32, a, da, t0, out); break;
    case DType::Q4_1: RowDot32<KQ4_1, NT>(row, cols / 32, a, da, t0, out); break;
    case DType::Q5_0: RowDot32<KQ5_0, NT>(row, cols / 32, a, da, t0, out); break;
    case DType::Q5_1: RowDot32<KQ5_1, NT>(row, cols / 32, a, da, t0, out); break;
    case DType::Q8_0: RowDot32<KQ8_0, NT>(row, cols / 32, a, da, t0, out); break;
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
    case DType::Q4_K: RowDotK4_512<false, NT>(row, cols / 256, a, t0, out); break;
    case DType::Q5_K: RowDotK4_512<true, NT>(row, cols / 256, a, t0, out); break;
    case DType::Q6_K: RowDotQ6_K512<NT>(row, cols / 256, a, t0, out); break;
#elif HWY_TARGET == HWY_AVX2
    case DType::Q4_K: case DType::Q5_K: case DType::Q6_K:
      for (int t = 0; t < NT; ++t) {  // the row stays in L1 for the next token
        const KToken x{a.qt(t0 + t), a.dt(t0 + t), a.st(t0 + t)};
        out[t] = type == DType::Q4_K   ? RowDotK4_256<false>(row, cols / 256, x)
                 : type == DType::Q5_K ? RowDotK4_256<true>(row, cols / 256, x)
                                       : RowDotQ6_K256(row, cols / 256, x);
      }
      break;
#else
    case DType::Q4_K: RowDotQ4_K<NT>(row, cols / 256, a, t0, out); break;
    case DType::Q5_K: RowDotQ5_K<NT>(row, cols / 256, a, t0, out); break;
    case DType::Q6_K: RowDotQ6_K<NT>(row, cols / 256, a, t0, out); break;
#endif
    case DType::Q8_K: RowDotQ8_K<NT>(row, cols / 256, a, t0, out); break;
    default: break;
  }
}

// Rows [r0, r1) for tokens [t0, t1), four tokens per pass over the weights.
template <int NT>
void GemvRowsNT(DType type, const uint8_t* data, size_t stride, int64_t r0, int64_t r1, int64_t cols,
                const ActView& a, const DecodeActs* da, int64_t t0, float* Y, int64_t ldy) {
  float out[NT] = {};
  for (int64_t r = r0; r < r1; ++r) {
    RowDot<NT>(type, data + static_cast<size_t>(r) * stride, cols, a, da, t0, out);
    for (int t = 0; t < NT; ++t) Y[(t0 + t) * ldy + r] = out[t];
  }
}

// da (may be null) holds the activation terms for the AVX-512 32-block kernel.
inline void GemvRows(DType type, const uint8_t* data, size_t stride, int64_t r0, int64_t r1, int64_t cols,
                     const ActView& a, const DecodeActs* da, int64_t t0, int64_t t1, float* Y, int64_t ldy) {
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4) GemvRowsNT<4>(type, data, stride, r0, r1, cols, a, da, t, Y, ldy);
  switch (t1 - t) {
    case 3: GemvRowsNT<3>(type, data, stride, r0, r1, cols, a, da, t, Y, ldy); break;
    case 2: GemvRowsNT<2>(type, data, stride, r0, r1, cols, a, da, t, Y, ldy); break;
    case 1: GemvRowsNT<1>(type, data, stride, r0, r1, cols, a, da, t, Y, ldy); break;
    default: break;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace quant
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#endif  // include guard
