// Audio file -> mono float samples at the model's rate (16 kHz). Reads WAV (8/16/24/32-bit PCM,
// 32/64-bit float, WAVE_FORMAT_EXTENSIBLE), FLAC, MP3 and Ogg/Vorbis through libsndfile, from a
// path or from bytes in memory (e.g. a base64 payload the server decoded). Channels are
// averaged, then the stream is resampled with libsoxr (VHQ). Every malformed input comes back as
// an error naming the source; nothing throws.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace g3n {

inline constexpr int kAudioSampleRate = 16000;
inline constexpr int kMaxAudioSourceRate = 384000;
inline constexpr int kMaxAudioChannels = 64;

struct AudioDecodeOptions {
  int target_sample_rate = kAudioSampleRate;  // 0 keeps the source rate
  double max_seconds = 4 * 3600.0;            // longer input is refused, not truncated
};

struct DecodedAudio {
  std::vector<float> samples;  // mono, nominal range [-1, 1]
  int sample_rate = 0;         // of `samples`
  int source_sample_rate = 0;
  int source_channels = 0;
  int64_t source_frames = 0;
  std::string source_format;  // libsndfile's container / encoding names

  double seconds() const { return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0; }
};

Result<DecodedAudio> DecodeAudioFile(const std::string& path, const AudioDecodeOptions& options = {});
// `name` only labels error messages.
Result<DecodedAudio> DecodeAudioMemory(const void* data, size_t size, const AudioDecodeOptions& options = {},
                                       const std::string& name = "audio buffer");

}  // namespace g3n
