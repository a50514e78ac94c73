// Element types of tensors as they appear in checkpoint files, with bf16/f16 conversions.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace g3n {

// Float and integer element types, then ggml's block-quantized formats (a row of n elements
// is n / BlockElems blocks of BlockBytes each).
enum class DType { F32, F16, BF16, I32, I64, I8, U8, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, Q8_K, Unknown };

const char* DTypeName(DType t);
DType DTypeFromSafetensors(const std::string& s);  // "BF16" -> BF16, unknown -> Unknown
size_t DTypeSize(DType t);                           // bytes per element; 0 for block formats
bool IsBlockQuantized(DType t);
int64_t BlockElems(DType t);                         // 1 for plain types, 32 or 256 for blocks
size_t BlockBytes(DType t);                          // DTypeSize for plain types
// Bytes of a row of n elements (n a multiple of BlockElems), 0 if n does not fit the blocks.
size_t RowBytes(DType t, int64_t n);

inline float Bf16ToF32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t F32ToBf16(float f) {  // round to nearest even; NaN stays NaN
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);

}  // namespace g3n
