// Streaming sample-rate conversion of mono float audio (libsoxr, "very high quality" recipe:
// the same library and recipe librosa uses for HF's load_audio, so results stay comparable).
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "util/status.h"

namespace g3n {

class Resampler {
 public:
  static Result<std::unique_ptr<Resampler>> Create(double in_rate, double out_rate);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Appends the output available so far to *out.
  Status Process(const float* in, size_t n, std::vector<float>* out);
  // Drains the filter's delay line and trims the total to round(n_in * out_rate / in_rate),
  // the length a one-shot conversion gives.
  Status Finish(std::vector<float>* out);

 private:
  Resampler(void* soxr, double ratio) : soxr_(soxr), ratio_(ratio) {}
  Status Run(const float* in, size_t n, std::vector<float>* out);
  void* soxr_;
  double ratio_;
  size_t in_total_ = 0;
  size_t out_total_ = 0;
};

}  // namespace g3n
