// Settings of the log-mel front end (HF Gemma3nAudioFeatureExtractor). Defaults are the released
// checkpoints' preprocessor_config.json values; ParseMelConfig reads that file's keys.
#pragma once
#include <string>
#include <vector>

#include "util/status.h"

namespace g3n {

struct MelConfig {
  int feature_size = 128;  // mel bins
  int sampling_rate = 16000;
  int frame_length = 512;  // round(sampling_rate * frame_length_ms / 1000)
  int hop_length = 160;    // round(sampling_rate * hop_length_ms / 1000)
  bool fft_overdrive = true;
  double min_frequency = 125.0;
  double max_frequency = 7600.0;
  double preemphasis = 0.97;
  bool preemphasis_htk_flavor = true;
  double input_scale_factor = 1.0;
  double mel_floor = 1e-5;
  double padding_value = 0.0;
  std::vector<double> per_bin_mean;    // empty = none
  std::vector<double> per_bin_stddev;  // empty = none
  // Call-time defaults of the extractor, not config keys.
  int max_length = 480000;  // samples kept per clip (30 s)
  int pad_to_multiple_of = 128;

  int fft_length() const;  // next power of two >= frame_length, doubled by fft_overdrive
};

// Reads the feature-extractor keys of a preprocessor_config.json; absent keys keep the
// defaults. Settings this port does not implement (dither, left padding) are errors.
Result<MelConfig> ParseMelConfig(const std::string& json_text, const std::string& source);
Status ValidateMelConfig(const MelConfig& c, const std::string& source);

}  // namespace g3n
