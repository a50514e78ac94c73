#include "io/dtype.h"

#include <cmath>

namespace g3n {

const char* DTypeName(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::Q4_0: return "Q4_0";
    case DType::Q4_1: return "Q4_1";
    case DType::Q5_0: return "Q5_0";
    case DType::Q5_1: return "Q5_1";
    case DType::Q8_0: return "Q8_0";
    case DType::Q4_K: return "Q4_K";
    case DType::Q5_K: return "Q5_K";
    case DType::Q6_K: return "Q6_K";
    case DType::Q8_K: return "Q8_K";
    default: return "unknown";
  }
}

DType DTypeFromSafetensors(const std::string& s) {
  if (s == "F32") return DType::F32;
  if (s == "F16") return DType::F16;
  if (s == "BF16") return DType::BF16;
  if (s == "I32") return DType::I32;
  if (s == "I64") return DType::I64;
  if (s == "I8") return DType::I8;
  if (s == "U8") return DType::U8;
  return DType::Unknown;
}

size_t DTypeSize(DType t) {
  switch (t) {
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: return 2;
    case DType::I64: return 8;
    case DType::I8: case DType::U8: return 1;
    default: return 0;
  }
}

bool IsBlockQuantized(DType t) { return DTypeSize(t) == 0 && t != DType::Unknown; }

int64_t BlockElems(DType t) {
  switch (t) {
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::Q8_0: return 32;
    case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: case DType::Q8_K: return 256;
    default: return 1;
  }
}

// Block layouts as ggml defines them (ggml-common.h): fp16 scales + packed quants.
size_t BlockBytes(DType t) {
  switch (t) {
    case DType::Q4_0: return 2 + 16;
    case DType::Q4_1: return 4 + 16;
    case DType::Q5_0: return 2 + 4 + 16;
    case DType::Q5_1: return 4 + 4 + 16;
    case DType::Q8_0: return 2 + 32;
    case DType::Q4_K: return 4 + 12 + 128;
    case DType::Q5_K: return 4 + 12 + 32 + 128;
    case DType::Q6_K: return 128 + 64 + 16 + 2;
    case DType::Q8_K: return 4 + 256 + 32;
    default: return DTypeSize(t);
  }
}

size_t RowBytes(DType t, int64_t n) {
  const int64_t be = BlockElems(t);
  if (n < 0 || n % be != 0) return 0;
  return static_cast<size_t>(n / be) * BlockBytes(t);
}

float F16ToF32(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t man = h & 0x3ff;
  uint32_t u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: value = man * 2^-24
      float f = std::ldexp(static_cast<float>(man), -24);
      std::memcpy(&u, &f, 4);
      u |= sign;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (man << 13);
  } else {
    u = sign | ((exp + 112) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t F32ToF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const float a = std::fabs(f);
  if (std::isnan(f)) return static_cast<uint16_t>(sign | 0x7e00u);
  if (a >= 65520.0f) return static_cast<uint16_t>(sign | 0x7c00u);
  if (a < 6.103515625e-05f) {  // subnormal or zero: round a * 2^24 to nearest even integer
    const float m = std::nearbyint(a * 16777216.0f);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(m));
  }
  uint32_t x = u & 0x7fffffffu;
  x += 0xfffu + ((x >> 13) & 1u);  // round mantissa to 10 bits, nearest even
  return static_cast<uint16_t>(sign | (((x >> 23) - 112) << 10) | ((x >> 13) & 0x3ffu));
}

}  // namespace g3n
