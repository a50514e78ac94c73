#include "audio/mel_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace g3n {

int MelConfig::fft_length() const {
  int n = 1;
  while (n < frame_length) n <<= 1;
  return fft_overdrive ? 2 * n : n;
}

Status ValidateMelConfig(const MelConfig& c, const std::string& source) {
  auto bad = [&](const std::string& what) { return Error(source + ": feature extractor: " + what); };
  if (c.feature_size <= 0 || c.feature_size > 4096) return bad("feature_size must be in 1..4096");
  if (c.sampling_rate <= 0) return bad("sampling_rate must be positive");
  if (c.frame_length < 2 || c.frame_length > (1 << 16)) return bad("frame length must be in 2..65536 samples");
  if (c.hop_length <= 0) return bad("hop length must be positive");
  if (!(c.min_frequency >= 0 && c.min_frequency < c.max_frequency && c.max_frequency <= c.sampling_rate / 2.0)) {
    return bad("need 0 <= min_frequency < max_frequency <= sampling_rate / 2");
  }
  if (!(c.mel_floor > 0)) return bad("mel_floor must be positive");
  if (c.max_length <= 0 || c.pad_to_multiple_of < 0) return bad("bad max_length / pad_to_multiple_of");
  const auto bins = static_cast<size_t>(c.feature_size);
  if (!c.per_bin_mean.empty() && c.per_bin_mean.size() != bins) return bad("per_bin_mean needs feature_size values");
  if (!c.per_bin_stddev.empty() && c.per_bin_stddev.size() != bins) {
    return bad("per_bin_stddev needs feature_size values");
  }
  return Status();
}

Result<MelConfig> ParseMelConfig(const std::string& json_text, const std::string& source) {
  auto j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error(source + ": not a JSON object");
  MelConfig c;
  try {
    c.feature_size = j.value("feature_size", c.feature_size);
    c.sampling_rate = j.value("sampling_rate", c.sampling_rate);
    const double frame_ms = j.value("frame_length_ms", 32.0);
    const double hop_ms = j.value("hop_length_ms", 10.0);
    c.frame_length = static_cast<int>(std::lround(c.sampling_rate * frame_ms / 1000.0));
    c.hop_length = static_cast<int>(std::lround(c.sampling_rate * hop_ms / 1000.0));
    c.fft_overdrive = j.value("fft_overdrive", c.fft_overdrive);
    c.min_frequency = j.value("min_frequency", c.min_frequency);
    c.max_frequency = j.value("max_frequency", c.max_frequency);
    c.preemphasis = j.value("preemphasis", c.preemphasis);
    c.preemphasis_htk_flavor = j.value("preemphasis_htk_flavor", c.preemphasis_htk_flavor);
    c.input_scale_factor = j.value("input_scale_factor", c.input_scale_factor);
    c.mel_floor = j.value("mel_floor", c.mel_floor);
    c.padding_value = j.value("padding_value", c.padding_value);
    for (const char* key : {"per_bin_mean", "per_bin_stddev"}) {
      if (j.contains(key) && !j[key].is_null()) {
        (std::string(key) == "per_bin_mean" ? c.per_bin_mean : c.per_bin_stddev) = j[key].get<std::vector<double>>();
      }
    }
    // Dither draws random noise: outputs would not be reproducible, so refuse it.
    if (j.value("dither", 0.0) != 0.0) return Error(source + ": feature extractor: dither != 0 is not supported");
    if (j.value("padding_side", std::string("right")) != "right") {
      return Error(source + ": feature extractor: only padding_side \"right\" is supported");
    }
  } catch (const nlohmann::json::exception& e) {
    return Error(source + ": feature extractor: bad value type (" + e.what() + ")");
  }
  G3N_RETURN_IF_ERROR(ValidateMelConfig(c, source));
  return c;
}

}  // namespace g3n
