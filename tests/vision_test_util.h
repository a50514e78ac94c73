// Helpers shared by the vision tests: the reference files and a comparison that reports max
// abs error and cosine similarity.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "test_util.h"

namespace g3n::testing {

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

inline std::vector<uint8_t> ToBytes(const TensorView& t) { return std::vector<uint8_t>(t.data, t.data + t.nbytes); }

struct Agreement {
  float max_abs = 0, max_ref = 0;
  double cosine = 0;
};

inline Agreement Compare(const std::vector<float>& ref, const float* got) {
  Agreement a;
  double dot = 0, nr = 0, ng = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    a.max_abs = std::max(a.max_abs, std::fabs(ref[i] - got[i]));
    a.max_ref = std::max(a.max_ref, std::fabs(ref[i]));
    dot += static_cast<double>(ref[i]) * got[i];
    nr += static_cast<double>(ref[i]) * ref[i];
    ng += static_cast<double>(got[i]) * got[i];
  }
  a.cosine = dot / std::sqrt(std::max(nr * ng, 1e-300));
  return a;
}

}  // namespace g3n::testing
