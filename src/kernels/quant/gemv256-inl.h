// AVX2 decode kernel for the 32-element formats, 8 blocks of one row at a time.
//
// Per block, the plain kernel (RowDot32) spends more on the scale than on the dot product:
// an fp16 load and conversion, a scalar multiply, a broadcast, a float convert and an FMA, with
// a second scalar FMA for the zero point. On Zen 2 those compete with maddubs / madd for the
// two multiply pipes and leave the loop compute-bound at ~4 cycles per block. Here eight
// blocks' int32 lane sums are transposed into one vector (lane b = block b), the zero point is
// one integer add of the per-call corrections, and the eight fp16 scales are converted at once:
// about half the vector instructions per block.

#if defined(G3N_KERNELS_QUANT_GEMV256_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef G3N_KERNELS_QUANT_GEMV256_INL_H_
#undef G3N_KERNELS_QUANT_GEMV256_INL_H_
#else
#define G3N_KERNELS_QUANT_GEMV256_INL_H_
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

#if HWY_TARGET == HWY_AVX2

// Eight blocks' dot vectors (block p's sum spread over the 8 lanes of z[p]) -> one vector whose
// lane p is block p's sum.
HWY_INLINE __m256i ReduceBlocks8(const __m256i* z) {
  __m256i u[4];  // lanes: blocks 2p, 2p+1, 2p, 2p+1 in each 128-bit half
  for (int p = 0; p < 4; ++p) {
    u[p] = _mm256_add_epi32(_mm256_unpacklo_epi32(z[2 * p], z[2 * p + 1]),
                            _mm256_unpackhi_epi32(z[2 * p], z[2 * p + 1]));
  }
  const __m256i v0 = _mm256_add_epi32(_mm256_unpacklo_epi64(u[0], u[1]), _mm256_unpackhi_epi64(u[0], u[1]));
  const __m256i v1 = _mm256_add_epi32(_mm256_unpacklo_epi64(u[2], u[3]), _mm256_unpackhi_epi64(u[2], u[3]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(v0, v1, 0x20), _mm256_permute2x128_si256(v0, v1, 0x31));
}

// The fp16 field at byte `offset` of eight consecutive blocks, as floats. Packed in
// general-purpose registers: the integer pipes are idle here, the vector ones are not.
template <class Block>
HWY_INLINE __m256 Halves8(const Block* blk, size_t offset) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(blk) + offset;
  uint64_t lo = 0, hi = 0;
  for (int k = 0; k < 4; ++k) {
    uint16_t a16, b16;
    std::memcpy(&a16, p + k * sizeof(Block), 2);
    std::memcpy(&b16, p + (k + 4) * sizeof(Block), 2);
    uint64_t a = a16, b = b16;
    // Keeps GCC from vectorising the packing (it did, with ~13 shuffles instead of 2 moves).
    __asm__("" : "+r"(a), "+r"(b));
    lo |= a << (16 * k);
    hi |= b << (16 * k);
  }
  return _mm256_cvtph_ps(_mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo)));
}

// Eight blocks' maddubs pair sums of 4-bit quants (|lane| <= 2 * 15 * 127) -> one int32 per
// block. Three unpack-and-add levels stay in int16 (a lane then sums 8 pair sums: <= 30480,
// no overflow), so the only widening is one sign extension per group instead of a vpmaddwd
// per block: on Zen 2 both multiplies share one pipe, which left it the bottleneck.
HWY_INLINE __m256i ReducePairSums8(const __m256i* p) {
  __m256i a[4];  // 16-bit lanes alternate blocks 2k, 2k+1
  for (int k = 0; k < 4; ++k) {
    a[k] = _mm256_add_epi16(_mm256_unpacklo_epi16(p[2 * k], p[2 * k + 1]),
                            _mm256_unpackhi_epi16(p[2 * k], p[2 * k + 1]));
  }
  // Per 128-bit half: blocks 0-3 twice, then blocks 4-7 twice.
  const __m256i b0 = _mm256_add_epi16(_mm256_unpacklo_epi32(a[0], a[1]), _mm256_unpackhi_epi32(a[0], a[1]));
  const __m256i b1 = _mm256_add_epi16(_mm256_unpacklo_epi32(a[2], a[3]), _mm256_unpackhi_epi32(a[2], a[3]));
  // Per half: blocks 0-7, each lane half of its block's sum.
  const __m256i c = _mm256_add_epi16(_mm256_unpacklo_epi64(b0, b1), _mm256_unpackhi_epi64(b0, b1));
  return _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(c)),
                          _mm256_cvtepi16_epi32(_mm256_extracti128_si256(c, 1)));
}

// One token's activation terms, as RowDot256 reads them.
struct TokenActs {
  const int8_t* q;
  const float* d;       // per block
  const float* ds;      // per block: d times the sum of the block's quants (formats with a min)
  const int32_t* corr;  // per block: -zero point times the sum of the block's quants
};

// Blocks [0, 8 * groups) of one row against one token. Unsigned formats get their zero point
// from corr, formats with a min from ds; 4-bit formats sum in int16 (ReducePairSums8).
template <class Q>
HWY_INLINE float RowDot256(const uint8_t* row, int64_t groups, const TokenActs& x) {
  using Block = typename Q::Block;
  constexpr bool kMin = Q::kOffset && !Q::kZeroPoint;
  const auto* blk = reinterpret_cast<const Block*>(row);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (int64_t g = 0; g < groups; ++g, blk += 8) {
    for (size_t line = 0; line < 8 * sizeof(Block); line += 64) Prefetch(reinterpret_cast<const uint8_t*>(blk) + 512 + line);
    const int8_t* xq = x.q + 256 * g;
    __m256i z[8];
    for (int p = 0; p < 8; ++p) {
      const B32 w = Q::Quants(blk[p]), xv = LoadB(xq + 32 * p);
      if constexpr (Q::kNibbles) {
        z[p] = _mm256_maddubs_epi16(w.v, xv.v);
      } else {
        z[p] = (Q::kSigned ? DotSS(ZeroI(), w, xv) : DotUS(ZeroI(), w, xv)).v;
      }
    }
    __m256i s = Q::kNibbles ? ReducePairSums8(z) : ReduceBlocks8(z);
    if (Q::kZeroPoint) s = _mm256_add_epi32(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.corr + 8 * g)));
    const __m256 scale = _mm256_mul_ps(Halves8(blk, 0), _mm256_loadu_ps(x.d + 8 * g));
    acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, acc0);
    if (kMin) acc1 = _mm256_fmadd_ps(Halves8(blk, 2), _mm256_loadu_ps(x.ds + 8 * g), acc1);
  }
  return Reduce(VF{_mm256_add_ps(acc0, acc1)});
}

// ---- K formats: one 256-element super-block per step, one token per call ----
// Sub-block scales go into the widening multiply (vpmaddwd) as int16 vectors picked by one
// vpshufb each from a per-super-block vector; mins and zero points meet the activations' sums
// of 16 (ActView::sum16) in one more vpmaddwd instead of a scalar loop.

// int16 lane pattern as vpshufb bytes: lanes 0-7 take int16 element a, lanes 8-15 element b
// (of their own 128-bit half).
struct PickIdx {
  alignas(32) uint8_t v[32];
  constexpr PickIdx(int a, int b) : v{} {
    for (int i = 0; i < 32; ++i) v[i] = static_cast<uint8_t>(2 * (i < 16 ? a : b) + (i & 1));
  }
};
HWY_INLINE __m256i Pick16(__m256i v16, const PickIdx& idx) {
  return _mm256_shuffle_epi8(v16, _mm256_load_si256(reinterpret_cast<const __m256i*>(idx.v)));
}

// Q4_K / Q5_K: bytes 0-7 the 8 sub-block scales, 8-15 the 8 mins (6 bits each, unpacked as
// ScaleMinK4 does).
HWY_INLINE __m128i ScalesMinsK4_256(const uint8_t* s) {
  uint32_t w[4];
  ScaleMinWordsK4(s, w);
  return _mm_setr_epi32(static_cast<int>(w[0]), static_cast<int>(w[1]), static_cast<int>(w[2]), static_cast<int>(w[3]));
}

struct KToken {
  const int8_t* q;
  const float* d;      // per super-block
  const int16_t* s16;  // sums of 16 quants
};

template <bool kQ5>
HWY_INLINE float RowDotK4_256(const uint8_t* row, int64_t nsb, const KToken& x) {
  static constexpr PickIdx kSc[8] = {PickIdx(0, 0), PickIdx(1, 1), PickIdx(2, 2), PickIdx(3, 3),
                                     PickIdx(4, 4), PickIdx(5, 5), PickIdx(6, 6), PickIdx(7, 7)};
  const size_t bsz = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const __m256i low = _mm256_set1_epi8(0x0F);
  const __m128i mins_dup = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
  __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    const uint8_t* b = row + static_cast<size_t>(i) * bsz;
    Prefetch(b + 4 * bsz);
    Prefetch(b + 4 * bsz + 64);
    Prefetch(b + 4 * bsz + 128);
    uint16_t dh, dmh;
    std::memcpy(&dh, b, 2);
    std::memcpy(&dmh, b + 2, 2);
    const __m128i sm = ScalesMinsK4_256(b + 4);
    const __m256i sc = _mm256_permute4x64_epi64(_mm256_cvtepu8_epi16(sm), 0x44);  // scales in both halves
    const __m256i m16 = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, mins_dup));      // m0 m0 m1 m1 .. m7 m7
    const uint8_t* qs = kQ5 ? b + 48 : b + 16;
    const int8_t* xq = x.q + 256 * i;
    __m256i is = _mm256_setzero_si256();
    __m256i qh;
    if (kQ5) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16));
    for (int j = 0; j < 4; ++j) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * j));
      __m256i lo = _mm256_and_si256(q, low), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
      if (kQ5) {  // bit 2j (2j + 1) of qh[l] is the fifth bit of lo (hi) byte l
        const __m256i bits = _mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * j));
        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(bits, 4), _mm256_set1_epi8(0x10)));
        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(bits, 3), _mm256_set1_epi8(0x10)));
      }
      const __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * j)));
      const __m256i phi =
          _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * j + 32)));
      is = _mm256_add_epi32(is, _mm256_madd_epi16(plo, Pick16(sc, kSc[2 * j])));
      is = _mm256_add_epi32(is, _mm256_madd_epi16(phi, Pick16(sc, kSc[2 * j + 1])));
    }
    const float dx = x.d[i];
    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.s16 + 16 * i));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_set1_ps(Half(dh) * dx), acc);
    accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(m16, bs)), _mm256_set1_ps(-Half(dmh) * dx), accm);
  }
  return Reduce(VF{_mm256_add_ps(acc, accm)});
}

HWY_INLINE float RowDotQ6_K256(const uint8_t* row, int64_t nsb, const KToken& x) {
  // Quant vector k of a half covers its 16-groups 2k (lanes 0-7) and 2k + 1 (lanes 8-15).
  static constexpr PickIdx kSc[4] = {PickIdx(0, 1), PickIdx(2, 3), PickIdx(4, 5), PickIdx(6, 7)};
  const auto* blk = reinterpret_cast<const BlockQ6_K*>(row);
  const __m256i low = _mm256_set1_epi8(0x0F), top = _mm256_set1_epi8(0x30);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nsb; ++i) {
    const BlockQ6_K& B = blk[i];
    const uint8_t* pb = reinterpret_cast<const uint8_t*>(&B);
    Prefetch(pb + 4 * sizeof(BlockQ6_K));
    Prefetch(pb + 4 * sizeof(BlockQ6_K) + 64);
    Prefetch(pb + 4 * sizeof(BlockQ6_K) + 128);
    Prefetch(pb + 4 * sizeof(BlockQ6_K) + 192);
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(B.scales)));
    const int8_t* xq = x.q + 256 * i;
    // The -32 zero point, weighted by each 16-group's scale, in the same int32 lanes.
    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.s16 + 16 * i));
    __m256i is = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5));
    for (int h = 0; h < 2; ++h) {
      const __m256i sch = _mm256_permute4x64_epi64(sc16, h == 0 ? 0x44 : 0xEE);  // scales 8h.. in both halves
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(B.ql + 64 * h));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(B.ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(B.qh + 32 * h));
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(l0, low), _mm256_and_si256(_mm256_slli_epi16(qh, 4), top)),
          _mm256_or_si256(_mm256_and_si256(l1, low), _mm256_and_si256(_mm256_slli_epi16(qh, 2), top)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low), _mm256_and_si256(qh, top)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low),
                          _mm256_and_si256(_mm256_srli_epi16(qh, 2), top))};
      for (int k = 0; k < 4; ++k) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 128 * h + 32 * k));
        is = _mm256_add_epi32(is, _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], xv), Pick16(sch, kSc[k])));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_set1_ps(Half(B.d) * x.d[i]), acc);
  }
  return Reduce(VF{acc});
}

#endif  // HWY_AVX2

}  // namespace HWY_NAMESPACE
}  // namespace quant
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#endif  // include guard
