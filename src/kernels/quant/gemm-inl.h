// Tiled quantized kernel for prefill (many tokens): compute-bound, so each weight block is
// decoded once per call into a small "panel" and then reused by every token.
//
// A panel holds kLanes consecutive weight rows (16 on AVX-512, 8 on AVX2) over a chunk of
// columns, as unsigned 8-bit quants interleaved in groups of four columns: for columns
// 4g..4g+3, the 4 bytes of row 0, then of row 1, ... — one vector register. A VNNI dpbusd
// (or maddubs + madd) of that register with four broadcast activation bytes advances all
// kLanes rows' dot products at once. Per 32-column chunk and row it also holds float scales
// (per 16 for Q6_K) and, for formats with a min, the min. Quants stay unsigned as stored
// (Q8's int8 gets +128); the zero point (Q4_0: 8, Q5_0: 16, Q6_K: 32, Q8: 128) comes back as
// -zero_point * sum(activation quants), the integer accumulator's starting value.
//
// Loop order, per thread: column chunks of up to 2048 (the activations' chunk, T x 2048 int8,
// stays in L2), then the thread's row groups (decode the panel), then tiles of kNT tokens.
// Results of later column chunks are added to Y.

#if defined(G3N_KERNELS_QUANT_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef G3N_KERNELS_QUANT_GEMM_INL_H_
#undef G3N_KERNELS_QUANT_GEMM_INL_H_
#else
#define G3N_KERNELS_QUANT_GEMM_INL_H_
#endif

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/quant/act_quant.h"
#include "kernels/quant/act_terms.h"
#include "kernels/quant/gemv-inl.h"
#include "kernels/quant/int8_simd-inl.h"
#include "kernels/quant/quant_blocks.h"


HWY_BEFORE_NAMESPACE();
namespace g3n {
namespace quant {
namespace HWY_NAMESPACE {

#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL

#if G3N_QUANT_VNNI
#pragma GCC target("avx512vnni")  // see int8_simd-inl.h
#endif

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
struct Isa {
  static constexpr int kLanes = 16;
  static constexpr int kNT = 8;
#if G3N_QUANT_VNNI
  static constexpr bool kVnni = true;
#else
  static constexpr bool kVnni = false;
#endif
  using VI = __m512i;
  using VF = __m512;
  static HWY_INLINE VI Set1I(int32_t v) { return _mm512_set1_epi32(v); }
  static HWY_INLINE VI LoadI(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static HWY_INLINE VI Bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static HWY_INLINE VI Dot(VI acc, VI w, VI x) {
#if G3N_QUANT_VNNI
    return _mm512_dpbusd_epi32(acc, w, x);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(w, x), _mm512_set1_epi16(1)));
#endif
  }
  // Signed int8 weights without VNNI: |w| * (x with w's sign) keeps maddubs' pair sums within
  // int16 (2 * 127 * 127), which w + 128 would not.
  static HWY_INLINE VI Abs(VI w) { return _mm512_abs_epi8(w); }
  static HWY_INLINE VI DotSigned(VI acc, VI abs_w, VI w, VI x) {
    const VI sx = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(abs_w, sx), _mm512_set1_epi16(1)));
  }
  static HWY_INLINE VI Pairs(VI w, VI x) { return _mm512_maddubs_epi16(w, x); }
  static HWY_INLINE VI AddPairs(VI a, VI b) { return _mm512_add_epi16(a, b); }
  static HWY_INLINE VI Widen(VI acc, VI p16) { return _mm512_add_epi32(acc, _mm512_madd_epi16(p16, _mm512_set1_epi16(1))); }
  static HWY_INLINE VF Zero() { return _mm512_setzero_ps(); }
  static HWY_INLINE VF Cvt(VI a) { return _mm512_cvtepi32_ps(a); }
  static HWY_INLINE VF LoadF(const float* p) { return _mm512_loadu_ps(p); }
  static HWY_INLINE VF Set1F(float f) { return _mm512_set1_ps(f); }
  static HWY_INLINE VF Mul(VF a, VF b) { return _mm512_mul_ps(a, b); }
  static HWY_INLINE VF MulAdd(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
  static HWY_INLINE void Store(float* y, VF v, int n, bool accumulate) {
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1u);
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, y));
    _mm512_mask_storeu_ps(y, m, v);
  }
};
#else  // AVX2
struct Isa {
  static constexpr int kLanes = 8;
  static constexpr int kNT = 4;
  static constexpr bool kVnni = false;
  using VI = __m256i;
  using VF = __m256;
  static HWY_INLINE VI Set1I(int32_t v) { return _mm256_set1_epi32(v); }
  static HWY_INLINE VI LoadI(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static HWY_INLINE VI Bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  static HWY_INLINE VI Dot(VI acc, VI w, VI x) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1)));
  }
  // Signed int8 weights: |w| * (x with w's sign) keeps maddubs' pair sums within int16
  // (2 * 127 * 127), which w + 128 would not.
  static HWY_INLINE VI Abs(VI w) { return _mm256_abs_epi8(w); }
  static HWY_INLINE VI DotSigned(VI acc, VI abs_w, VI w, VI x) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(abs_w, _mm256_sign_epi8(x, w)),
                                                   _mm256_set1_epi16(1)));
  }
  static HWY_INLINE VI Pairs(VI w, VI x) { return _mm256_maddubs_epi16(w, x); }
  static HWY_INLINE VI AddPairs(VI a, VI b) { return _mm256_add_epi16(a, b); }
  static HWY_INLINE VI Widen(VI acc, VI p16) { return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1))); }
  static HWY_INLINE VF Zero() { return _mm256_setzero_ps(); }
  static HWY_INLINE VF Cvt(VI a) { return _mm256_cvtepi32_ps(a); }
  static HWY_INLINE VF LoadF(const float* p) { return _mm256_loadu_ps(p); }
  static HWY_INLINE VF Set1F(float f) { return _mm256_set1_ps(f); }
  static HWY_INLINE VF Mul(VF a, VF b) { return _mm256_mul_ps(a, b); }
  static HWY_INLINE VF MulAdd(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
  static HWY_INLINE void Store(float* y, VF v, int n, bool accumulate) {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, v);
    for (int i = 0; i < n; ++i) y[i] = accumulate ? y[i] + tmp[i] : tmp[i];
  }
};
#endif

constexpr int64_t kChunkCols = 2048;

// The int8 formats keep their signed quants in the panel where there is no VNNI (dpbusd takes
// w + 128 without overflow; maddubs does not): see Isa::DotSigned. Their zero point is then 0.
template <DType T>
constexpr bool SignedPanel() {
  return (T == DType::Q8_0 || T == DType::Q8_K) && !Isa::kVnni;
}

// Without VNNI each maddubs needs a madd to widen its int16 pair sums. Small unsigned quants
// keep those sums small (2 * 15 * 127 for 4 bits), so that this many column groups can be
// added in int16 first and widened once: 8 for 4-bit quants, 4 for 5-bit, 2 for 6-bit.
template <DType T>
constexpr int PairGroups() {
  if (Isa::kVnni || SignedPanel<T>()) return 1;
  switch (T) {
    case DType::Q4_0: case DType::Q4_1: case DType::Q4_K: return 8;
    case DType::Q5_0: case DType::Q5_1: case DType::Q5_K: return 4;
    case DType::Q6_K: return 2;
    default: return 1;
  }
}

// ---- decoding one 32-column chunk of one row into unsigned quants + scales ----
// ws receives 1 scale (2 for Q6_K: one per 16), wm the min (formats with one).

template <DType T>
struct Chunk;

template <>
struct Chunk<DType::Q4_0> {
  static constexpr int kSub = 32, kZero = 8;
  static constexpr bool kMin = false;
  static HWY_INLINE B32 Get(const uint8_t* row, int64_t c, float* ws, float*) {
    const auto& b = reinterpret_cast<const BlockQ4_0*>(row)[c];
    ws[0] = Half(b.d);
    return KQ4_0::Quants(b);
  }
};
template <>
struct Chunk<DType::Q4_1> {
  static constexpr int kSub = 32, kZero = 0;
  static constexpr bool kMin = true;
  static HWY_INLINE B32 Get(const uint8_t* row, int64_t c, float* ws, float* wm) {
    const auto& b = reinterpret_cast<const BlockQ4_1*>(row)[c];
    ws[0] = Half(b.d);
    wm[0] = Half(b.m);
    return KQ4_1::Quants(b);
  }
};
template <>
struct Chunk<DType::Q5_0> {
  static constexpr int kSub = 32, kZero = 16;
  static constexpr bool kMin = false;
  static HWY_INLINE B32 Get(const uint8_t* row, int64_t c, float* ws, float*) {
    const auto& b = reinterpret_cast<const BlockQ5_0*>(row)[c];
    ws[0] = Half(b.d);
    return KQ5_0::Quants(b);
  }
};
template <>
struct Chunk<DType::Q5_1> {
  static constexpr int kSub = 32, kZero = 0;
  static constexpr bool kMin = true;
  static HWY_INLINE B32 Get(const uint8_t* row, int64_t c, float* ws, float* wm) {
    const auto& b = reinterpret_cast<const BlockQ5_1*>(row)[c];
    ws[0] = Half(b.d);
    wm[0] = Half(b.m);
    return KQ5_1::Quants(b);
  }
};
HWY_INLINE B32 FlipSign(B32 v) { return {_mm256_xor_si256(v.v, _mm256_set1_epi8(static_cast<char>(0x80)))}; }
template <>
struct Chunk<DType::Q8_0> {
  static constexpr int kSub = 32, kZero = 128;
  static constexpr bool kMin = false;
  static HWY_INLINE B32 Get(const uint8_t* row, int64_t c, float* ws, float*) {
    const auto& b = reinterpret_cast<const BlockQ8_0*>(row)[c];
    ws[0] = Half(b.d);
    return SignedPanel<DType::Q8_0>() ? LoadB(b.qs) : FlipSign(LoadB(b.qs));  // w, or w + 128
  }
};
template <>
struct Chunk<DType::Q4_K> {
  static constexpr int kSub = 32, kZero = 0;
  static constexpr bool kMin = true;
  static HWY_INLINE B32 Get(const uint8_t* row, int64_t c, float* ws, float* wm) {
    const auto& b = reinterpret_cast<const BlockQ4_K*>(row)[c / 8];
    const int j = static_cast<int>(c % 8);
    uint8_t sc, m;
    ScaleMinK4(j, b.scales, &sc, &m);
    ws[0] = Half(b.d) * sc;
    wm[0] = -Half(b.dmin) * m;
    const B32 q = LoadB(b.qs + 32 * (j / 2));
    return (j & 1) ? HighNibbles(q) : LowNibbles(q);
  }
};
template <>
struct Chunk<DType::Q5_K> {
  static constexpr int kSub = 32, kZero = 0;
  static constexpr bool kMin = true;
  static HWY_INLINE B32 Get(const uint8_t* row, int64_t c, float* ws, float* wm) {
    const auto& b = reinterpret_cast<const BlockQ5_K*>(row)[c / 8];
    const int j = static_cast<int>(c % 8);
    uint8_t sc, m;
    ScaleMinK4(j, b.scales, &sc, &m);
    ws[0] = Half(b.d) * sc;
    wm[0] = -Half(b.dmin) * m;
    const B32 q = LoadB(b.qs + 32 * (j / 2));
    return Or((j & 1) ? HighNibbles(q) : LowNibbles(q), BitsTo4(LoadB(b.qh), j, 1));
  }
};
template <>
struct Chunk<DType::Q6_K> {
  static constexpr int kSub = 16, kZero = 32;
  static constexpr bool kMin = false;
  static HWY_INLINE B32 Get(const uint8_t* row, int64_t c, float* ws, float*) {
    const auto& b = reinterpret_cast<const BlockQ6_K*>(row)[c / 8];
    const int h = static_cast<int>(c % 8) / 4, k = static_cast<int>(c % 4);
    const float d = Half(b.d);
    ws[0] = d * b.scales[8 * h + 2 * k];
    ws[1] = d * b.scales[8 * h + 2 * k + 1];
    const B32 l = LoadB(b.ql + 64 * h + 32 * (k & 1));
    const B32 low = (k < 2) ? LowNibbles(l) : HighNibbles(l);
    return Or(low, BitsTo4(LoadB(b.qh + 32 * h), 2 * k, 3));
  }
};
template <>
struct Chunk<DType::Q8_K> {
  static constexpr int kSub = 32, kZero = 128;
  static constexpr bool kMin = false;
  static HWY_INLINE B32 Get(const uint8_t* row, int64_t c, float* ws, float*) {
    const auto& b = reinterpret_cast<const BlockQ8_K*>(row)[c / 8];
    ws[0] = b.d;
    const B32 q = LoadB(b.qs + 32 * (c % 8));
    return SignedPanel<DType::Q8_K>() ? q : FlipSign(q);
  }
};

// 8x8 transpose of 32-bit elements: out[g] = dword g of in[0..7].
HWY_INLINE void Transpose8x8(__m256i* v) {
  const __m256i a0 = _mm256_unpacklo_epi32(v[0], v[1]), a1 = _mm256_unpackhi_epi32(v[0], v[1]);
  const __m256i a2 = _mm256_unpacklo_epi32(v[2], v[3]), a3 = _mm256_unpackhi_epi32(v[2], v[3]);
  const __m256i a4 = _mm256_unpacklo_epi32(v[4], v[5]), a5 = _mm256_unpackhi_epi32(v[4], v[5]);
  const __m256i a6 = _mm256_unpacklo_epi32(v[6], v[7]), a7 = _mm256_unpackhi_epi32(v[6], v[7]);
  const __m256i b0 = _mm256_unpacklo_epi64(a0, a2), b1 = _mm256_unpackhi_epi64(a0, a2);
  const __m256i b2 = _mm256_unpacklo_epi64(a1, a3), b3 = _mm256_unpackhi_epi64(a1, a3);
  const __m256i b4 = _mm256_unpacklo_epi64(a4, a6), b5 = _mm256_unpackhi_epi64(a4, a6);
  const __m256i b6 = _mm256_unpacklo_epi64(a5, a7), b7 = _mm256_unpackhi_epi64(a5, a7);
  v[0] = _mm256_permute2x128_si256(b0, b4, 0x20);
  v[1] = _mm256_permute2x128_si256(b1, b5, 0x20);
  v[2] = _mm256_permute2x128_si256(b2, b6, 0x20);
  v[3] = _mm256_permute2x128_si256(b3, b7, 0x20);
  v[4] = _mm256_permute2x128_si256(b0, b4, 0x31);
  v[5] = _mm256_permute2x128_si256(b1, b5, 0x31);
  v[6] = _mm256_permute2x128_si256(b2, b6, 0x31);
  v[7] = _mm256_permute2x128_si256(b3, b7, 0x31);
}

struct Panel {
  std::vector<uint8_t> q;   // [chunks32][8 groups][kLanes][4]
  std::vector<float> ws;    // [subs][kLanes]
  std::vector<float> wm;    // [chunks32][kLanes]
};

// Decodes rows [r0, r0 + n) (n <= kLanes; missing rows are zeros) over 32-column chunks
// [c0, c1) of a matrix with `stride` bytes per row.
template <DType T>
void BuildPanel(const uint8_t* data, size_t stride, int64_t r0, int n, int64_t c0, int64_t c1, Panel& p) {
  using C = Chunk<T>;
  constexpr int L = Isa::kLanes;
  constexpr int kSubsPerChunk = 32 / C::kSub;
  const int64_t nc = c1 - c0;
  p.q.resize(static_cast<size_t>(nc * 32 * L));
  p.ws.assign(static_cast<size_t>(nc * kSubsPerChunk * L), 0.0f);
  if (C::kMin) p.wm.assign(static_cast<size_t>(nc * L), 0.0f);
  for (int64_t c = 0; c < nc; ++c) {
    for (int o = 0; o < L / 8; ++o) {
      __m256i v[8];
      for (int i = 0; i < 8; ++i) {
        const int r = o * 8 + i;
        if (r < n) {
          float ws[2] = {0.0f, 0.0f}, wm = 0.0f;
          v[i] = C::Get(data + static_cast<size_t>(r0 + r) * stride, c0 + c, ws, &wm).v;
          for (int h = 0; h < kSubsPerChunk; ++h) p.ws[(c * kSubsPerChunk + h) * L + r] = ws[h];
          if (C::kMin) p.wm[c * L + r] = wm;
        } else {
          v[i] = _mm256_setzero_si256();
        }
      }
      Transpose8x8(v);
      uint8_t* dst = p.q.data() + static_cast<size_t>(c) * 32 * L + o * 32;
      for (int g = 0; g < 8; ++g) _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + g * L * 4), v[g]);
    }
  }
}

// kNT tokens x kLanes rows over the panel's sub-blocks; Y[t * ldy + lane] for n valid lanes.
template <int kSub, bool kMin, bool kSigned, int kPack, int NT>
void Tile(const Panel& p, int64_t nsub, const int8_t* const* x, const float* const* dx, const int32_t* const* corr,
          const float* const* ds, float* Y, int64_t ldy, int n, bool accumulate) {
  using V = Isa::VI;
  using F = Isa::VF;
  constexpr int L = Isa::kLanes;
  constexpr int G = kSub / 4;
  F acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = Isa::Zero();
  const uint8_t* wq = p.q.data();
  for (int64_t s = 0; s < nsub; ++s, wq += G * L * 4) {
    // Column groups outside, tokens inside: NT integer accumulators and one weight vector (and
    // its |w|) live in registers, which fits AVX2's 16 as well as AVX-512's 32.
    V ai[NT];
    for (int t = 0; t < NT; ++t) ai[t] = Isa::Set1I(kSigned ? 0 : corr[t][s]);
    if constexpr (kPack > 1) {
      static_assert(G % kPack == 0, "column groups must split into packs");
      for (int g0 = 0; g0 < G; g0 += kPack) {
        V p16[NT];
        for (int g = g0; g < g0 + kPack; ++g) {
          const V w = Isa::LoadI(wq + g * L * 4);
          for (int t = 0; t < NT; ++t) {
            const V p = Isa::Pairs(w, Isa::Bcast4(x[t] + s * kSub + 4 * g));
            p16[t] = g == g0 ? p : Isa::AddPairs(p16[t], p);
          }
        }
        for (int t = 0; t < NT; ++t) ai[t] = Isa::Widen(ai[t], p16[t]);
      }
    } else {
      for (int g = 0; g < G; ++g) {
        const V w = Isa::LoadI(wq + g * L * 4);
        if constexpr (kSigned) {
          const V abs_w = Isa::Abs(w);
          for (int t = 0; t < NT; ++t) ai[t] = Isa::DotSigned(ai[t], abs_w, w, Isa::Bcast4(x[t] + s * kSub + 4 * g));
        } else {
          for (int t = 0; t < NT; ++t) ai[t] = Isa::Dot(ai[t], w, Isa::Bcast4(x[t] + s * kSub + 4 * g));
        }
      }
    }
    const F scale = Isa::LoadF(p.ws.data() + s * L);
    for (int t = 0; t < NT; ++t) acc[t] = Isa::MulAdd(Isa::Cvt(ai[t]), Isa::Mul(scale, Isa::Set1F(dx[t][s])), acc[t]);
    if (kMin) {  // kSub == 32: one min per sub-block
      const F m = Isa::LoadF(p.wm.data() + s * L);
      for (int t = 0; t < NT; ++t) acc[t] = Isa::MulAdd(m, Isa::Set1F(ds[t][s]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) Isa::Store(Y + t * ldy, acc[t], n, accumulate);
}

template <int kSub, bool kMin, bool kSigned, int kPack, int NT>
HWY_INLINE void TileAt(const Panel& p, int64_t nsub, const ActView& a, const PanelActs& pa, int64_t t0, int64_t k0,
                       float* Y, int64_t ldy, int n, bool accumulate) {
  const int8_t* x[NT];
  const float* dx[NT];
  const int32_t* corr[NT];
  const float* ds[NT];
  const int64_t subs_per_row = a.K / kSub;
  for (int t = 0; t < NT; ++t) {
    x[t] = a.qt(t0 + t) + k0;
    dx[t] = pa.dx + (t0 + t) * subs_per_row + k0 / kSub;
    corr[t] = pa.corr + (t0 + t) * subs_per_row + k0 / kSub;
    ds[t] = a.dst(t0 + t) + k0 / 32;
  }
  Tile<kSub, kMin, kSigned, kPack, NT>(p, nsub, x, dx, corr, ds, Y + t0 * ldy, ldy, n, accumulate);
}

template <int kSub, bool kMin, bool kSigned, int kPack, int NT>
void TokensAt(const Panel& p, int64_t nsub, const ActView& a, const PanelActs& pa, int64_t t0, int64_t k0, float* Y,
              int64_t ldy, int n, bool accumulate) {
  if constexpr (NT > 0) {
    TileAt<kSub, kMin, kSigned, kPack, NT>(p, nsub, a, pa, t0, k0, Y, ldy, n, accumulate);
  }
}

// Tokens [0, T) against the panel: full tiles of kNT, then one tile of the remainder.
template <int kSub, bool kMin, bool kSigned, int kPack>
void AllTokens(const Panel& p, int64_t nsub, const ActView& a, const PanelActs& pa, int64_t k0, float* Y, int64_t ldy,
               int n, bool accumulate) {
  constexpr int NT = Isa::kNT;
  int64_t t = 0;
  for (; t + NT <= a.T; t += NT) TileAt<kSub, kMin, kSigned, kPack, NT>(p, nsub, a, pa, t, k0, Y, ldy, n, accumulate);
  switch (a.T - t) {
    case 1: TokensAt<kSub, kMin, kSigned, kPack, 1>(p, nsub, a, pa, t, k0, Y, ldy, n, accumulate); break;
    case 2: TokensAt<kSub, kMin, kSigned, kPack, 2>(p, nsub, a, pa, t, k0, Y, ldy, n, accumulate); break;
    case 3: TokensAt<kSub, kMin, kSigned, kPack, 3>(p, nsub, a, pa, t, k0, Y, ldy, n, accumulate); break;
    case 4: TokensAt<kSub, kMin, kSigned, kPack, (NT > 4 ? 4 : 0)>(p, nsub, a, pa, t, k0, Y, ldy, n, accumulate); break;
    case 5: TokensAt<kSub, kMin, kSigned, kPack, (NT > 5 ? 5 : 0)>(p, nsub, a, pa, t, k0, Y, ldy, n, accumulate); break;
    case 6: TokensAt<kSub, kMin, kSigned, kPack, (NT > 6 ? 6 : 0)>(p, nsub, a, pa, t, k0, Y, ldy, n, accumulate); break;
    case 7: TokensAt<kSub, kMin, kSigned, kPack, (NT > 7 ? 7 : 0)>(p, nsub, a, pa, t, k0, Y, ldy, n, accumulate); break;
    default: break;
  }
}

template <DType T>
void GemmRowsT(const uint8_t* data, size_t stride, int64_t r0, int64_t r1, int64_t cols, const ActView& a,
               const PanelActs& pa, float* Y, int64_t ldy) {
  using C = Chunk<T>;
  constexpr int L = Isa::kLanes;
  thread_local Panel panel;
  for (int64_t k0 = 0; k0 < cols; k0 += kChunkCols) {
    const int64_t k1 = std::min(cols, k0 + kChunkCols);
    for (int64_t r = r0; r < r1; r += L) {
      const int n = static_cast<int>(std::min<int64_t>(L, r1 - r));
      BuildPanel<T>(data, stride, r, n, k0 / 32, k1 / 32, panel);
      AllTokens<C::kSub, C::kMin, SignedPanel<T>(), PairGroups<T>()>(panel, (k1 - k0) / C::kSub, a, pa, k0, Y + r, ldy, n, k0 > 0);
    }
  }
}

inline bool TiledSupports(DType) { return true; }

inline void GemmRows(DType type, const uint8_t* data, size_t stride, int64_t r0, int64_t r1, int64_t cols,
                     const ActView& a, const PanelActs& pa, float* Y, int64_t ldy) {
  switch (type) {
    case DType::Q4_0: GemmRowsT<DType::Q4_0>(data, stride, r0, r1, cols, a, pa, Y, ldy); break;
    case DType::Q4_1: GemmRowsT<DType::Q4_1>(data, stride, r0, r1, cols, a, pa, Y, ldy); break;
    case DType::Q5_0: GemmRowsT<DType::Q5_0>(data, stride, r0, r1, cols, a, pa, Y, ldy); break;
    case DType::Q5_1: GemmRowsT<DType::Q5_1>(data, stride, r0, r1, cols, a, pa, Y, ldy); break;
    case DType::Q8_0: GemmRowsT<DType::Q8_0>(data, stride, r0, r1, cols, a, pa, Y, ldy); break;
    case DType::Q4_K: GemmRowsT<DType::Q4_K>(data, stride, r0, r1, cols, a, pa, Y, ldy); break;
    case DType::Q5_K: GemmRowsT<DType::Q5_K>(data, stride, r0, r1, cols, a, pa, Y, ldy); break;
    case DType::Q6_K: GemmRowsT<DType::Q6_K>(data, stride, r0, r1, cols, a, pa, Y, ldy); break;
    case DType::Q8_K: GemmRowsT<DType::Q8_K>(data, stride, r0, r1, cols, a, pa, Y, ldy); break;
    default: break;
  }
}

#else  // no tiled kernel on this target: QuantMatMul uses the direct one

HWY_INLINE bool TiledSupports(DType) { return false; }
inline void GemmRows(DType, const uint8_t*, size_t, int64_t, int64_t, int64_t, const ActView&, const PanelActs&,
                     float*, int64_t) {}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace quant
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#endif  // include guard
