// Log-mel features exactly as HF Gemma3nAudioFeatureExtractor computes them (spec section 3.2):
// truncate to max_length, right-pad with zeros to a multiple of 128 samples, frames of
// frame_length + 1 samples every hop, pre-emphasis inside each frame, periodic Hann, |rFFT|,
// HTK-mel filterbank without area normalisation, ln(max(mel, floor)).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "audio/mel_config.h"
#include "audio/real_fft.h"

namespace g3n {

class ThreadPool;

struct MelFeatures {
  int64_t frames = 0;
  int bins = 0;
  std::vector<float> values;  // [frames, bins], row-major
  std::vector<uint8_t> mask;  // [frames], 1 = frame starts inside the real (unpadded) audio
};

class LogMelExtractor {
 public:
  // The config must pass ValidateMelConfig.
  explicit LogMelExtractor(const MelConfig& config = MelConfig());

  const MelConfig& config() const { return cfg_; }
  // One clip, as the processor calls the extractor for a single audio item.
  MelFeatures Extract(std::span<const float> waveform, ThreadPool* pool = nullptr) const;
  // A batch padded to its longest clip (rounded up to pad_to_multiple_of): every result has the
  // same frame count and the masks mark each clip's own length.
  std::vector<MelFeatures> ExtractBatch(const std::vector<std::span<const float>>& clips,
                                        ThreadPool* pool = nullptr) const;

  // Frame count for a (truncated, padded) length of `padded` samples.
  int64_t FrameCount(int64_t padded) const;

 private:
  struct Filter {
    int first_bin;
    std::vector<double> weights;  // the filter's nonzero span
  };
  MelFeatures Compute(std::span<const float> clip, int64_t padded, ThreadPool* pool) const;
  void ComputeFrame(const float* x, float* frame, double* fft_in, std::complex<double>* spectrum, double* mag,
                    float* out) const;

  MelConfig cfg_;
  RealFft fft_;
  std::vector<float> window_;
  std::vector<Filter> filters_;
};

}  // namespace g3n
