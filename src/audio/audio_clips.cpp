#include "audio/audio_clips.h"

#include <algorithm>

namespace g3n {

std::vector<std::vector<float>> SplitIntoClips(std::span<const float> samples, size_t clip_samples) {
  std::vector<std::vector<float>> clips;
  if (clip_samples == 0) clip_samples = samples.size();
  for (size_t begin = 0; begin < samples.size(); begin += clip_samples) {
    const size_t end = std::min(samples.size(), begin + clip_samples);
    clips.emplace_back(samples.begin() + static_cast<std::ptrdiff_t>(begin),
                       samples.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return clips;
}

}  // namespace g3n
