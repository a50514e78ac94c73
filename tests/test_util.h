// Shared helpers for tests that compare the engine with reference fixtures.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "kernels/ops.h"

namespace g3n::testing {

inline std::string FixtureDir(const std::string& name) { return std::string(G3N_FIXTURES_DIR) + "/" + name; }

inline std::vector<float> ToFloats(const TensorView& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  RowToF32(t.dtype, t.data, t.numel(), v.data());
  return v;
}

inline std::vector<int32_t> ToInts(const TensorView& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.numel()));
  std::memcpy(v.data(), t.data, v.size() * 4);
  return v;
}

inline float MaxAbs(const float* a, size_t n) {
  float m = 0.0f;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i]));
  return m;
}

inline float MaxAbsDiff(const float* a, const float* b, size_t n) {
  float m = 0.0f;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// Asserts max|a-b| <= rel * max|expected|.
inline void ExpectClose(const std::vector<float>& expected, const float* actual, float rel, const std::string& what) {
  const float scale = std::max(MaxAbs(expected.data(), expected.size()), 1e-6f);
  const float diff = MaxAbsDiff(expected.data(), actual, expected.size());
  EXPECT_LE(diff, rel * scale) << what << ": max|diff| " << diff << " vs max|expected| " << scale;
}

inline int Argmax(const float* x, int n) { return static_cast<int>(std::max_element(x, x + n) - x); }

}  // namespace g3n::testing
