// A small int8 vector layer for the quantized kernels, one implementation per Highway target
// family: AVX2 intrinsics (also used by the AVX-512 targets: decode is memory-bound, so 256-bit
// ops suffice), NEON (dot-product instructions where the CPU has them), and portable scalar
// code for everything else. Highway 1.0 has no int8 dot products, hence the intrinsics; each
// target's code is compiled with that target's attributes (HWY_BEFORE_NAMESPACE).
//
// The unit is 32 bytes (one ggml block of quants). Dot products produce 8 int32 lanes, lane j
// summing elements 4j..4j+3, so lanes 0-3 cover elements 0-15 and lanes 4-7 elements 16-31
// (what Q6_K's per-16 scales rely on).

// Per-target include guard (Highway's toggle idiom).
#if defined(G3N_KERNELS_QUANT_INT8_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef G3N_KERNELS_QUANT_INT8_SIMD_INL_H_
#undef G3N_KERNELS_QUANT_INT8_SIMD_INL_H_
#else
#define G3N_KERNELS_QUANT_INT8_SIMD_INL_H_
#endif

#include <hwy/highway.h>

#include <cstdint>
#include <cstring>

#include "io/dtype.h"

#if HWY_ARCH_X86
// GCC 12 reports -Wmaybe-uninitialized inside AVX-512 intrinsics (their _mm512_undefined_*
// sources) wherever they are inlined; the state that counts is the one where the header is
// first included, so silence it here as Highway does for its own include.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#elif HWY_ARCH_ARM_A64
#include <arm_neon.h>
#endif

// Whether this pass may use AVX-512 VNNI (vpdpbusd / vpdpwssd): on AVX3_DL, whose CPUs all
// have it. Highway's AVX3_DL attribute string names avxvnni but not avx512vnni, so the files
// that use it add the latter with `#pragma GCC target` (undone by HWY_AFTER_NAMESPACE); with
// other compilers the kernels fall back to the maddubs + madd sequences.
#undef G3N_QUANT_VNNI
#if HWY_TARGET == HWY_AVX3_DL && defined(__GNUC__) && !defined(__clang__)
#define G3N_QUANT_VNNI 1
#else
#define G3N_QUANT_VNNI 0
#endif

HWY_BEFORE_NAMESPACE();
namespace g3n {
namespace quant {
namespace HWY_NAMESPACE {

#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL

struct B32 { __m256i v; };  // 32 bytes, u8 or s8 by context
struct VI { __m256i v; };   // 8 x int32
struct VF { __m256 v; };    // 8 x float

HWY_INLINE float Half(uint16_t h) { return _cvtsh_ss(h); }
HWY_INLINE B32 LoadB(const void* p) { return {_mm256_loadu_si256(static_cast<const __m256i*>(p))}; }
HWY_INLINE B32 Or(B32 a, B32 b) { return {_mm256_or_si256(a.v, b.v)}; }
HWY_INLINE B32 LowNibbles(B32 a) { return {_mm256_and_si256(a.v, _mm256_set1_epi8(0x0F))}; }
HWY_INLINE B32 HighNibbles(B32 a) {
  return {_mm256_and_si256(_mm256_srli_epi16(a.v, 4), _mm256_set1_epi8(0x0F))};
}
// 16 packed bytes -> their 16 low nibbles, then their 16 high nibbles.
// (A broadcast load and one variable shift: one vector op fewer than shift + insert.)
HWY_INLINE B32 Nibbles16(const uint8_t* p) {
  const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return {_mm256_and_si256(_mm256_srlv_epi64(v, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0F))};
}
// Per byte: ((a >> shift) & mask) << 4, for masks of at most two bits.
HWY_INLINE B32 BitsTo4(B32 a, int shift, int mask) {
  const __m256i s = _mm256_srl_epi16(a.v, _mm_cvtsi32_si128(shift));
  return {_mm256_slli_epi16(_mm256_and_si256(s, _mm256_set1_epi8(static_cast<char>(mask))), 4)};
}
// Byte i = 0x10 if bit i of `bits` is set: Q5_0/Q5_1's fifth bits.
HWY_INLINE B32 BitsToBytes10(uint32_t bits) {
  const __m256i pick = _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL, 0x0303030303030303LL);
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), pick);
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
  return {_mm256_and_si256(set, _mm256_set1_epi8(0x10))};
}
HWY_INLINE VI ZeroI() { return {_mm256_setzero_si256()}; }
// acc + dot(u, s) with u unsigned (<= 128 so the pairwise int16 sums cannot saturate).
HWY_INLINE VI DotUS(VI acc, B32 u, B32 s) {
  const __m256i p16 = _mm256_maddubs_epi16(u.v, s.v);
  return {_mm256_add_epi32(acc.v, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)))};
}
// acc + dot(w, x), both signed: |w| times x with w's sign moved onto x.
HWY_INLINE VI DotSS(VI acc, B32 w, B32 x) {
  return DotUS(acc, {_mm256_sign_epi8(w.v, w.v)}, {_mm256_sign_epi8(x.v, w.v)});
}
// acc + lo * dot(u, s) over elements 0-15 + hi * dot over 16-31 (|lo|, |hi| < 2^15): the
// K formats' sub-block scales applied in the same multiply that widens the pair sums.
HWY_INLINE VI DotUSScaled(VI acc, B32 u, B32 s, int lo, int hi) {
  const __m256i p16 = _mm256_maddubs_epi16(u.v, s.v);
  const __m256i sc = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(hi)), _mm_set1_epi16(static_cast<int16_t>(lo)));
  return {_mm256_add_epi32(acc.v, _mm256_madd_epi16(p16, sc))};
}
// acc + sc * dot(u, s) over all 32 elements (one sub-block scale).
HWY_INLINE VI DotUSScale(VI acc, B32 u, B32 s, int sc) {
  const __m256i p16 = _mm256_maddubs_epi16(u.v, s.v);
  return {_mm256_add_epi32(acc.v, _mm256_madd_epi16(p16, _mm256_set1_epi16(static_cast<int16_t>(sc))))};
}
HWY_INLINE VF ZeroF() { return {_mm256_setzero_ps()}; }
HWY_INLINE VF Cvt(VI a) { return {_mm256_cvtepi32_ps(a.v)}; }
HWY_INLINE VF Set1(float f) { return {_mm256_set1_ps(f)}; }
HWY_INLINE VF SetHalves(float lo, float hi) { return {_mm256_set_m128(_mm_set1_ps(hi), _mm_set1_ps(lo))}; }
HWY_INLINE VF MulAdd(VF a, VF b, VF c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
HWY_INLINE VF Add(VF a, VF b) { return {_mm256_add_ps(a.v, b.v)}; }
HWY_INLINE float Reduce(VF a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
HWY_INLINE void Prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }

#elif HWY_TARGET == HWY_NEON && HWY_ARCH_ARM_A64

struct B32 { uint8x16_t a, b; };
struct VI { int32x4_t a, b; };
struct VF { float32x4_t a, b; };

HWY_INLINE float Half(uint16_t h) {
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}
HWY_INLINE B32 LoadB(const void* p) {
  const uint8_t* q = static_cast<const uint8_t*>(p);
  return {vld1q_u8(q), vld1q_u8(q + 16)};
}
HWY_INLINE B32 Or(B32 x, B32 y) { return {vorrq_u8(x.a, y.a), vorrq_u8(x.b, y.b)}; }
HWY_INLINE B32 LowNibbles(B32 x) { return {vandq_u8(x.a, vdupq_n_u8(0x0F)), vandq_u8(x.b, vdupq_n_u8(0x0F))}; }
HWY_INLINE B32 HighNibbles(B32 x) { return {vshrq_n_u8(x.a, 4), vshrq_n_u8(x.b, 4)}; }
HWY_INLINE B32 Nibbles16(const uint8_t* p) {
  const uint8x16_t x = vld1q_u8(p);
  return {vandq_u8(x, vdupq_n_u8(0x0F)), vshrq_n_u8(x, 4)};
}
HWY_INLINE B32 BitsTo4(B32 x, int shift, int mask) {
  const int8x16_t down = vdupq_n_s8(static_cast<int8_t>(-shift));
  const uint8x16_t m = vdupq_n_u8(static_cast<uint8_t>(mask));
  return {vshlq_n_u8(vandq_u8(vshlq_u8(x.a, down), m), 4), vshlq_n_u8(vandq_u8(vshlq_u8(x.b, down), m), 4)};
}
HWY_INLINE B32 BitsToBytes10(uint32_t bits) {
  static const uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t bit = vld1q_u8(kBit);
  const uint8x16_t lo = vcombine_u8(vdup_n_u8(static_cast<uint8_t>(bits)), vdup_n_u8(static_cast<uint8_t>(bits >> 8)));
  const uint8x16_t hi =
      vcombine_u8(vdup_n_u8(static_cast<uint8_t>(bits >> 16)), vdup_n_u8(static_cast<uint8_t>(bits >> 24)));
  return {vandq_u8(vtstq_u8(lo, bit), vdupq_n_u8(0x10)), vandq_u8(vtstq_u8(hi, bit), vdupq_n_u8(0x10))};
}
HWY_INLINE VI ZeroI() { return {vdupq_n_s32(0), vdupq_n_s32(0)}; }
HWY_INLINE int32x4_t Dot16(int32x4_t acc, int8x16_t w, int8x16_t x) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, w, x);
#else
  const int16x8_t p = vmlal_s8(vmull_s8(vget_low_s8(w), vget_low_s8(x)), vget_high_s8(w), vget_high_s8(x));
  return vpadalq_s16(acc, p);
#endif
}
// NEON's dot product is signed x signed; unsigned quants here are < 128, so they fit.
HWY_INLINE VI DotUS(VI acc, B32 u, B32 s) {
  return {Dot16(acc.a, vreinterpretq_s8_u8(u.a), vreinterpretq_s8_u8(s.a)),
          Dot16(acc.b, vreinterpretq_s8_u8(u.b), vreinterpretq_s8_u8(s.b))};
}
HWY_INLINE VI DotSS(VI acc, B32 w, B32 x) { return DotUS(acc, w, x); }
HWY_INLINE VI DotUSScaled(VI acc, B32 u, B32 s, int lo, int hi) {
  const int32x4_t a = Dot16(vdupq_n_s32(0), vreinterpretq_s8_u8(u.a), vreinterpretq_s8_u8(s.a));
  const int32x4_t b = Dot16(vdupq_n_s32(0), vreinterpretq_s8_u8(u.b), vreinterpretq_s8_u8(s.b));
  return {vmlaq_n_s32(acc.a, a, lo), vmlaq_n_s32(acc.b, b, hi)};
}
HWY_INLINE VI DotUSScale(VI acc, B32 u, B32 s, int sc) { return DotUSScaled(acc, u, s, sc, sc); }
HWY_INLINE VF ZeroF() { return {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)}; }
HWY_INLINE VF Cvt(VI x) { return {vcvtq_f32_s32(x.a), vcvtq_f32_s32(x.b)}; }
HWY_INLINE VF Set1(float f) { return {vdupq_n_f32(f), vdupq_n_f32(f)}; }
HWY_INLINE VF SetHalves(float lo, float hi) { return {vdupq_n_f32(lo), vdupq_n_f32(hi)}; }
HWY_INLINE VF MulAdd(VF x, VF y, VF c) { return {vfmaq_f32(c.a, x.a, y.a), vfmaq_f32(c.b, x.b, y.b)}; }
HWY_INLINE VF Add(VF x, VF y) { return {vaddq_f32(x.a, y.a), vaddq_f32(x.b, y.b)}; }
HWY_INLINE float Reduce(VF x) { return vaddvq_f32(vaddq_f32(x.a, x.b)); }
HWY_INLINE void Prefetch(const void* p) { __builtin_prefetch(p); }

#else  // portable scalar: correct everywhere, fast nowhere

struct B32 { uint8_t v[32]; };
struct VI { int32_t v[8]; };
struct VF { float v[8]; };

HWY_INLINE float Half(uint16_t h) { return F16ToF32(h); }
HWY_INLINE B32 LoadB(const void* p) { B32 r; std::memcpy(r.v, p, 32); return r; }
HWY_INLINE B32 Or(B32 a, B32 b) { for (int i = 0; i < 32; ++i) a.v[i] |= b.v[i]; return a; }
HWY_INLINE B32 LowNibbles(B32 a) { for (int i = 0; i < 32; ++i) a.v[i] &= 0x0F; return a; }
HWY_INLINE B32 HighNibbles(B32 a) { for (int i = 0; i < 32; ++i) a.v[i] = static_cast<uint8_t>(a.v[i] >> 4); return a; }
HWY_INLINE B32 Nibbles16(const uint8_t* p) {
  B32 r;
  for (int i = 0; i < 16; ++i) {
    r.v[i] = p[i] & 0x0F;
    r.v[i + 16] = static_cast<uint8_t>(p[i] >> 4);
  }
  return r;
}
HWY_INLINE B32 BitsTo4(B32 a, int shift, int mask) {
  for (int i = 0; i < 32; ++i) a.v[i] = static_cast<uint8_t>(((a.v[i] >> shift) & mask) << 4);
  return a;
}
HWY_INLINE B32 BitsToBytes10(uint32_t bits) {
  B32 r;
  for (int i = 0; i < 32; ++i) r.v[i] = ((bits >> i) & 1u) ? 0x10 : 0;
  return r;
}
HWY_INLINE VI ZeroI() { VI r; for (int i = 0; i < 8; ++i) r.v[i] = 0; return r; }
HWY_INLINE VI DotUS(VI acc, B32 u, B32 s) {
  for (int j = 0; j < 8; ++j)
    for (int k = 0; k < 4; ++k) acc.v[j] += u.v[4 * j + k] * static_cast<int8_t>(s.v[4 * j + k]);
  return acc;
}
HWY_INLINE VI DotSS(VI acc, B32 w, B32 x) {
  for (int j = 0; j < 8; ++j)
    for (int k = 0; k < 4; ++k) acc.v[j] += static_cast<int8_t>(w.v[4 * j + k]) * static_cast<int8_t>(x.v[4 * j + k]);
  return acc;
}
HWY_INLINE VI DotUSScaled(VI acc, B32 u, B32 s, int lo, int hi) {
  for (int j = 0; j < 8; ++j) {
    int32_t d = 0;
    for (int k = 0; k < 4; ++k) d += u.v[4 * j + k] * static_cast<int8_t>(s.v[4 * j + k]);
    acc.v[j] += d * (j < 4 ? lo : hi);
  }
  return acc;
}
HWY_INLINE VI DotUSScale(VI acc, B32 u, B32 s, int sc) { return DotUSScaled(acc, u, s, sc, sc); }
HWY_INLINE VF ZeroF() { VF r; for (int i = 0; i < 8; ++i) r.v[i] = 0.0f; return r; }
HWY_INLINE VF Cvt(VI a) { VF r; for (int i = 0; i < 8; ++i) r.v[i] = static_cast<float>(a.v[i]); return r; }
HWY_INLINE VF Set1(float f) { VF r; for (int i = 0; i < 8; ++i) r.v[i] = f; return r; }
HWY_INLINE VF SetHalves(float lo, float hi) { VF r; for (int i = 0; i < 8; ++i) r.v[i] = i < 4 ? lo : hi; return r; }
HWY_INLINE VF MulAdd(VF a, VF b, VF c) { for (int i = 0; i < 8; ++i) c.v[i] += a.v[i] * b.v[i]; return c; }
HWY_INLINE VF Add(VF a, VF b) { for (int i = 0; i < 8; ++i) a.v[i] += b.v[i]; return a; }
HWY_INLINE float Reduce(VF a) { float s = 0.0f; for (int i = 0; i < 8; ++i) s += a.v[i]; return s; }
HWY_INLINE void Prefetch(const void*) {}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace quant
}  // namespace g3n
HWY_AFTER_NAMESPACE();

#endif  // include guard
