// ggml's block layouts (ggml-common.h), byte for byte: GGUF files store rows of these blocks, so
// the structs must match in size and field order. Scales are IEEE fp16 bit patterns.
#pragma once
#include <cstdint>
#include <cstring>

namespace g3n::quant {

constexpr int kQK = 32;    // elements of a Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 block
constexpr int kQKK = 256;  // elements of a K-quant super-block

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];  // element j in the low nibble of qs[j], element j + 16 in the high nibble
};
struct BlockQ4_1 {
  uint16_t d, m;  // value = d * q + m
  uint8_t qs[16];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  // bit j is the fifth bit of element j
  uint8_t qs[16];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
// Eight sub-blocks of 32 with 6-bit scales and mins packed into 12 bytes (see ScaleMinK4).
// Elements 64i..64i+31 are the low nibbles of qs[32i..32i+31], 64i+32..64i+63 the high ones.
struct BlockQ4_K {
  uint16_t d, dmin;  // value = d * sc[j] * q - dmin * m[j]
  uint8_t scales[12];
  uint8_t qs[128];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[32];  // bit 2i (2i+1) of qh[l] is the fifth bit of element 64i + l (64i + 32 + l)
  uint8_t qs[128];
};
// Sixteen sub-blocks of 16 with int8 scales; value = d * sc[j] * (q - 32), q in [0, 64).
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];  // sums of qs over groups of 16
};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 &&
              sizeof(BlockQ8_K) == 292);

// Scale and min of sub-block j (0..7) of a Q4_K / Q5_K block: j < 4 keep the low six bits of
// bytes j and j + 4; j >= 4 combine a nibble of byte j + 4 with the top two bits of j - 4 / j.
inline void ScaleMinK4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// ScaleMinK4 for all j at once, on 32-bit words: as bytes (little-endian), words 0-1 are the
// 8 scales and words 2-3 the 8 mins (6-bit fields: j < 4 in bytes 0-7, j >= 4 split across
// bytes 8-11 and the top bits of 0-7).
inline void ScaleMinWordsK4(const uint8_t* q, uint32_t words[4]) {
  uint32_t u[3];
  std::memcpy(u, q, 12);
  constexpr uint32_t k6 = 0x3f3f3f3f, k4 = 0x0f0f0f0f, k2 = 0x03030303;
  words[0] = u[0] & k6;
  words[1] = (u[2] & k4) | (((u[0] >> 6) & k2) << 4);
  words[2] = u[1] & k6;
  words[3] = ((u[2] >> 4) & k4) | (((u[1] >> 6) & k2) << 4);
}

}  // namespace g3n::quant
