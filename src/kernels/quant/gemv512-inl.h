// AVX-512 decode kernel for the 32-element formats, 16 blocks of one row at a time.
//
// Per block, the plain kernel spends more on the scale (convert an fp16, multiply, broadcast)
// and on the float accumulate than on the dot product itself. Here a zmm holds two blocks'
// quants, eight dpbusd give sixteen blocks' partial sums, a transposing reduction turns them
// into one vector with one lane per block, and all sixteen scales come from one gather and
// one fp16 conversion. The lane order after the reduction is lane 4k + j = block 4j + k; the
// per-call activation arrays (DecodeActs, act_terms.h) are stored in that order.

#if defined(G3N_KERNELS_QUANT_GEMV512_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef G3N_KERNELS_QUANT_GEMV512_INL_H_
#undef G3N_KERNELS_QUANT_GEMV512_INL_H_
#else
#define G3N_KERNELS_QUANT_GEMV512_INL_H_
#endif

#include <cstring>

#include "kernels/quant/act_quant.h"
#include "kernels/quant/act_terms.h"
#include "kernels/quant/int8_simd-inl.h"
#include "kernels/quant/quant_blocks.h"


HWY_BEFORE_NAMESPACE();
namespace g3n {
namespace quant {
namespace HWY_NAMESPACE {

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL

#if G3N_QUANT_VNNI
#pragma GCC target("avx512vnni")
#endif

// Two blocks' 16 packed bytes -> [b0 low nibbles, b0 high, b1 low, b1 high]: each block's
// elements in their natural order, so activations need no shuffling.
HWY_INLINE __m512i NibblePair(const uint8_t* q0, const uint8_t* q1) {
  const __m256i y = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q0))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(q1)), 1);
  const __m512i z = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(y));
  return _mm512_and_si512(_mm512_srlv_epi64(z, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4)), _mm512_set1_epi8(0x0F));
}
HWY_INLINE __m512i FifthBits(const uint8_t* qh0, const uint8_t* qh1) {
  uint32_t a, b;
  std::memcpy(&a, qh0, 4);
  std::memcpy(&b, qh1, 4);
  const __mmask64 m = static_cast<__mmask64>(a) | (static_cast<__mmask64>(b) << 32);
  return _mm512_maskz_mov_epi8(m, _mm512_set1_epi8(0x10));
}

struct Z4_0 {
  using Block = BlockQ4_0;
  static constexpr bool kMin = false, kWide = false;  // kWide: quants up to 255 (needs VNNI)
  static HWY_INLINE __m512i Pair(const Block* b) { return NibblePair(b[0].qs, b[1].qs); }
};
struct Z4_1 {
  using Block = BlockQ4_1;
  static constexpr bool kMin = true, kWide = false;
  static HWY_INLINE __m512i Pair(const Block* b) { return NibblePair(b[0].qs, b[1].qs); }
};
struct Z5_0 {
  using Block = BlockQ5_0;
  static constexpr bool kMin = false, kWide = false;
  static HWY_INLINE __m512i Pair(const Block* b) {
    return _mm512_or_si512(NibblePair(b[0].qs, b[1].qs), FifthBits(b[0].qh, b[1].qh));
  }
};
struct Z5_1 {
  using Block = BlockQ5_1;
  static constexpr bool kMin = true, kWide = false;
  static HWY_INLINE __m512i Pair(const Block* b) {
    return _mm512_or_si512(NibblePair(b[0].qs, b[1].qs), FifthBits(b[0].qh, b[1].qh));
  }
};
struct Z8_0 {
  using Block = BlockQ8_0;
  static constexpr bool kMin = false, kWide = true;
  static HWY_INLINE __m512i Pair(const Block* b) {  // w + 128, unsigned
    const __m512i z = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[0].qs))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[1].qs)), 1);
    return _mm512_xor_si512(z, _mm512_set1_epi8(static_cast<char>(0x80)));
  }
};

template <class Q>
struct ZFor;
template <>
struct ZFor<KQ4_0> { using type = Z4_0; };
template <>
struct ZFor<KQ4_1> { using type = Z4_1; };
template <>
struct ZFor<KQ5_0> { using type = Z5_0; };
template <>
struct ZFor<KQ5_1> { using type = Z5_1; };
template <>
struct ZFor<KQ8_0> { using type = Z8_0; };

template <class Z>
constexpr bool Decode512Supports() {
#if G3N_QUANT_VNNI
  return true;
#else
  return !Z::kWide;  // maddubs would saturate on 0..255
#endif
}

HWY_INLINE __m512i DotU8(__m512i w, __m512i x) {
#if G3N_QUANT_VNNI
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, x);
#else
  return _mm512_madd_epi16(_mm512_maddubs_epi16(w, x), _mm512_set1_epi16(1));
#endif
}

// Eight pair sums (pair p: lanes 0-7 block 2p, 8-15 block 2p+1) -> one sum per block, lane
// 4k + j holding block 4j + k.
HWY_INLINE __m512i ReduceBlocks16(const __m512i* z) {
  __m512i w[4];
  for (int q = 0; q < 4; ++q) {
    w[q] = _mm512_add_epi32(_mm512_shuffle_i64x2(z[2 * q], z[2 * q + 1], 0x88),
                            _mm512_shuffle_i64x2(z[2 * q], z[2 * q + 1], 0xDD));
  }
  const __m512i s01 = _mm512_add_epi32(_mm512_unpacklo_epi32(w[0], w[1]), _mm512_unpackhi_epi32(w[0], w[1]));
  const __m512i s23 = _mm512_add_epi32(_mm512_unpacklo_epi32(w[2], w[3]), _mm512_unpackhi_epi32(w[2], w[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(s01, s23), _mm512_unpackhi_epi64(s01, s23));
}

// Sixteen blocks' (d, m) fp16 pairs, gathered in the reduction's lane order.
template <class Z>
HWY_INLINE __m512i GatherScales(const typename Z::Block* blk) {
  constexpr int kB = static_cast<int>(sizeof(typename Z::Block));
  const __m512i idx = _mm512_setr_epi32(0 * kB, 4 * kB, 8 * kB, 12 * kB, 1 * kB, 5 * kB, 9 * kB, 13 * kB, 2 * kB,
                                        6 * kB, 10 * kB, 14 * kB, 3 * kB, 7 * kB, 11 * kB, 15 * kB);
  return _mm512_i32gather_epi32(idx, static_cast<const void*>(blk), 1);
}
HWY_INLINE __m512 LowHalves(__m512i v) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v)); }
HWY_INLINE __m512 HighHalves(__m512i v) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16))); }

// Blocks [0, 16 * groups) of one row against NT tokens; adds each token's total to out[t].
template <class Z, int NT>
HWY_INLINE void RowDot512(const uint8_t* row, int64_t groups, const ActView& a, const DecodeActs& da, int64_t t0,
                          float* out) {
  const auto* blk = reinterpret_cast<const typename Z::Block*>(row);
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g, blk += 16) {
    __m512i w[8];
    for (int p = 0; p < 8; ++p) w[p] = Z::Pair(blk + 2 * p);
    const __m512i dm = GatherScales<Z>(blk);
    const __m512 d = LowHalves(dm);
    for (int t = 0; t < NT; ++t) {
      const int8_t* x = a.qt(t0 + t) + g * 512;
      __m512i z[8];
      for (int p = 0; p < 8; ++p) z[p] = DotU8(w[p], _mm512_loadu_si512(x + 64 * p));
      const int64_t o = (t0 + t) * da.groups * 16 + g * 16;
      const __m512i s = _mm512_add_epi32(ReduceBlocks16(z), _mm512_loadu_si512(da.corr + o));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(d, _mm512_loadu_ps(da.dx + o)),
                               acc[t]);
      if (Z::kMin) acc[t] = _mm512_fmadd_ps(HighHalves(dm), _mm512_loadu_ps(da.ds + o), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] += _mm512_reduce_add_ps(acc[t]);
}

// ---- K formats: one 256-element super-block per step ----
// maddubs leaves int16 pair sums (no saturation: quants <= 63), and the widening multiply
// that follows applies each sub-block's integer scale (vpmaddwd, or VNNI's vpdpwssd that
// also accumulates). Two sub-blocks share a zmm; their scales come from one vpermw.

HWY_INLINE __m512i ScaledPairSums(__m512i acc, __m512i w, __m512i x, __m512i scale16) {
  const __m512i p16 = _mm512_maddubs_epi16(w, x);
#if G3N_QUANT_VNNI
  return _mm512_dpwssd_epi32(acc, p16, scale16);
#else
  return _mm512_add_epi32(acc, _mm512_madd_epi16(p16, scale16));
#endif
}

// int16 lane k of the result = v[idx[k]] for the 32 lanes, idx given as bytes.
HWY_INLINE __m512i Spread16(__m512i v16, const uint8_t* idx) {
  return _mm512_permutexvar_epi16(_mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx))), v16);
}

// Lanes 0-15 take element a, 16-31 element b.
struct SpreadIdx {
  uint8_t v[32];
  constexpr SpreadIdx(int a, int b) : v{} {
    for (int i = 0; i < 32; ++i) v[i] = static_cast<uint8_t>(i < 16 ? a : b);
  }
};
// Lanes 8k..8k+7 take element base + k.
struct Spread4Idx {
  uint8_t v[32];
  constexpr Spread4Idx(int base) : v{} {
    for (int i = 0; i < 32; ++i) v[i] = static_cast<uint8_t>(base + i / 8);
  }
};

// Q4_K / Q5_K scales and mins (6 bits each, packed as ScaleMinK4 reads them) as int16 lanes
// 0-7 (scales) and 8-15 (mins).
HWY_INLINE __m512i ScalesMinsK4(const uint8_t* s) {
  uint32_t w[4];
  ScaleMinWordsK4(s, w);
  const __m128i b = _mm_setr_epi32(static_cast<int>(w[0]), static_cast<int>(w[1]), static_cast<int>(w[2]),
                                   static_cast<int>(w[3]));
  return _mm512_castsi256_si512(_mm256_cvtepu8_epi16(b));
}

// Sub-block pairs of a Q4_K/Q5_K super-block as the nibble split leaves them: (0,2) (1,3) (4,6)
// (5,7); the activations are regrouped to match with one 128-bit shuffle.
template <bool kQ5, int NT>
HWY_INLINE void RowDotK4_512(const uint8_t* row, int64_t nsb, const ActView& a, int64_t t0, float* out) {
  static constexpr SpreadIdx kPair[4] = {SpreadIdx(0, 2), SpreadIdx(1, 3), SpreadIdx(4, 6), SpreadIdx(5, 7)};
  const size_t bsz = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  __m512 acc[NT];
  __m256 accm[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm512_setzero_ps();
    accm[t] = _mm256_setzero_ps();
  }
  const __m512i low = _mm512_set1_epi8(0x0F);
  for (int64_t i = 0; i < nsb; ++i) {
    const uint8_t* b = row + static_cast<size_t>(i) * bsz;
    uint16_t dh, dmh;
    std::memcpy(&dh, b, 2);
    std::memcpy(&dmh, b + 2, 2);
    const uint8_t* scales = b + 4;
    const uint8_t* qs = kQ5 ? b + 48 : b + 16;
    const __m512i sm = ScalesMinsK4(scales);
    __m512i sc[4];
    for (int k = 0; k < 4; ++k) sc[k] = Spread16(sm, kPair[k].v);
    // Mins duplicated per pair of 16-sums: m0 m0 m1 m1 ... m7 m7, against the bsums.
    const __m256i m16 = _mm256_permutexvar_epi16(
        _mm256_setr_epi16(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15), _mm512_castsi512_si256(sm));
    const __m512i qa = _mm512_loadu_si512(qs), qb = _mm512_loadu_si512(qs + 64);
    __m512i w[4] = {_mm512_and_si512(qa, low), _mm512_and_si512(_mm512_srli_epi16(qa, 4), low),
                    _mm512_and_si512(qb, low), _mm512_and_si512(_mm512_srli_epi16(qb, 4), low)};
    if (kQ5) {  // fifth bit of sub-block j is bit j of qh[l]
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16)));
      static constexpr int kBits[4][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}};
      for (int k = 0; k < 4; ++k) {
        const __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << kBits[k][0])),
                                               _mm256_set1_epi8(static_cast<char>(1 << kBits[k][1])), 1);
        w[k] = _mm512_mask_add_epi8(w[k], _mm512_test_epi8_mask(qh, bit), w[k], _mm512_set1_epi8(0x10));
      }
    }
    const float d = Half(dh), dmin = Half(dmh);
    for (int t = 0; t < NT; ++t) {
      const int8_t* x = a.qt(t0 + t) + 256 * i;
      const __m512i x0 = _mm512_loadu_si512(x), x1 = _mm512_loadu_si512(x + 64);
      const __m512i x2 = _mm512_loadu_si512(x + 128), x3 = _mm512_loadu_si512(x + 192);
      __m512i s = _mm512_setzero_si512();
      s = ScaledPairSums(s, w[0], _mm512_shuffle_i64x2(x0, x1, 0x44), sc[0]);
      s = ScaledPairSums(s, w[1], _mm512_shuffle_i64x2(x0, x1, 0xEE), sc[1]);
      s = ScaledPairSums(s, w[2], _mm512_shuffle_i64x2(x2, x3, 0x44), sc[2]);
      s = ScaledPairSums(s, w[3], _mm512_shuffle_i64x2(x2, x3, 0xEE), sc[3]);
      const float dx = a.dt(t0 + t)[i];
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(d * dx), acc[t]);
      const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.st(t0 + t) + 16 * i));
      accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(m16, bs)), _mm256_set1_ps(-dmin * dx), accm[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]) + Reduce(VF{accm[t]});
}

template <int NT>
HWY_INLINE void RowDotQ6_K512(const uint8_t* row, int64_t nsb, const ActView& a, int64_t t0, float* out) {
  static constexpr Spread4Idx kQuad[4] = {Spread4Idx(0), Spread4Idx(4), Spread4Idx(8), Spread4Idx(12)};
  const auto* blk = reinterpret_cast<const BlockQ6_K*>(row);
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i low = _mm512_set1_epi8(0x0F), three = _mm512_set1_epi8(3);
  const __m512i shift_a = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
  const __m512i shift_b = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
  for (int64_t i = 0; i < nsb; ++i) {
    const BlockQ6_K& B = blk[i];
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(B.scales)));
    const __m512i sc16z = _mm512_castsi256_si512(sc16);
    __m512i w[4], sc[4];
    for (int h = 0; h < 2; ++h) {
      const __m512i l = _mm512_loadu_si512(B.ql + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(B.qh + 32 * h)));
      // Elements 0-63 of the half: low nibbles, bits (0,1) then (2,3) of qh; 64-127: high
      // nibbles, bits (4,5) then (6,7).
      w[2 * h] = _mm512_or_si512(_mm512_and_si512(l, low),
                                 _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_a), three), 4));
      w[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low),
                                     _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_b), three), 4));
      sc[2 * h] = Spread16(sc16z, kQuad[2 * h].v);
      sc[2 * h + 1] = Spread16(sc16z, kQuad[2 * h + 1].v);
    }
    const float d = Half(B.d);
    for (int t = 0; t < NT; ++t) {
      const int8_t* x = a.qt(t0 + t) + 256 * i;
      __m512i s = _mm512_setzero_si512();
      for (int k = 0; k < 4; ++k) s = ScaledPairSums(s, w[k], _mm512_loadu_si512(x + 64 * k), sc[k]);
      // The -32 zero point, weighted by each 16-group's scale.
      const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.st(t0 + t) + 16 * i));
      const __m256i zp = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5);
      s = _mm512_sub_epi32(s, _mm512_zextsi256_si512(zp));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(d * a.dt(t0 + t)[i]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]);
}

#endif  // AVX3 targets

}  // namespace HWY_NAMESPACE
}  // namespace quant
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#endif  // include guard
