// Shared by the audio tests: the reference tensors of tests/fixtures/audio (written by
// tools/make_audio_fixtures.py) and the |Δ| statistics the tests report.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "test_util.h"

namespace g3n::testing {

inline const SafetensorsFile& AudioReference() {
  static const SafetensorsFile ref = [] {
    auto r = OpenSafetensors(FixtureDir("audio/reference.safetensors"));
    if (!r.ok()) {
      ADD_FAILURE() << r.status().message();
      return SafetensorsFile{};
    }
    return std::move(*r);
  }();
  return ref;
}

inline bool HasRef(const std::string& key) { return AudioReference().tensors.count(key) > 0; }
inline const TensorView& Ref(const std::string& key) { return AudioReference().tensors.at(key); }
inline std::vector<float> RefFloats(const std::string& key) { return ToFloats(Ref(key)); }
inline std::vector<uint8_t> RefBytes(const std::string& key) {
  const TensorView& t = Ref(key);
  return std::vector<uint8_t>(t.data, t.data + t.nbytes);
}
template <class T>
std::vector<T> RefInts(const std::string& key) {
  const TensorView& t = Ref(key);
  std::vector<T> v(t.nbytes / sizeof(T));
  std::memcpy(v.data(), t.data, t.nbytes);
  return v;
}

struct DiffStats {
  double max = 0, mean = 0;
};

inline DiffStats Diff(const float* a, const float* b, size_t n) {
  DiffStats s;
  for (size_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    s.max = std::max(s.max, d);
    s.mean += d;
  }
  if (n > 0) s.mean /= static_cast<double>(n);
  return s;
}

// Log-mel comparison. The reference builds its Hann window with numpy's float32 cos, whose last
// bit differs from libm's (and between numpy's SIMD paths) at ~7% of the 512 points; for pure
// tones that shifts bins ~12 nats below the frame's peak by up to ~0.04 (checked in numpy by
// swapping only the window). So the tight bound applies to bins within kStrongNats of their
// frame's peak, and elsewhere the error is bounded relative to the peak's linear energy.
struct MelDiffStats {
  DiffStats all;
  double max_strong = 0;    // max |Δ| where the reference is within kStrongNats of its frame peak
  double max_peak_rel = 0;  // max |e^a - e^b| / e^peak, over every bin
};
inline constexpr double kStrongNats = 4.0;  // bins with >= 1.8% of the peak's energy

inline MelDiffStats MelDiff(const float* got, const float* want, size_t frames, size_t bins) {
  MelDiffStats s;
  s.all = Diff(got, want, frames * bins);
  for (size_t t = 0; t < frames; ++t) {
    const float* g = got + t * bins;
    const float* w = want + t * bins;
    const double peak = *std::max_element(w, w + bins);
    for (size_t j = 0; j < bins; ++j) {
      const double d = std::fabs(static_cast<double>(g[j]) - w[j]);
      if (w[j] >= peak - kStrongNats) s.max_strong = std::max(s.max_strong, d);
      s.max_peak_rel = std::max(s.max_peak_rel, std::fabs(std::exp(double(g[j]) - peak) - std::exp(double(w[j]) - peak)));
    }
  }
  return s;
}

inline void ReportMel(const std::string& what, const MelDiffStats& s) {
  std::printf("[ measured ] %-40s max|d| %.3g  mean|d| %.3g  strong-bin max|d| %.3g  peak-rel %.3g\n",
              what.c_str(), s.all.max, s.all.mean, s.max_strong, s.max_peak_rel);
}

// Printed so that test logs carry the measured errors, not just pass/fail.
inline void Report(const std::string& what, const DiffStats& s) {
  std::printf("[ measured ] %-40s max|d| %.3g  mean|d| %.3g\n", what.c_str(), s.max, s.mean);
}

}  // namespace g3n::testing
