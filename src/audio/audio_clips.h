// The audio encoder sees at most 30 s at a time; longer recordings become consecutive clips.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace g3n {

inline constexpr size_t kAudioClipSamples = 480000;  // 30 s at 16 kHz

// Consecutive clips of clip_samples each; the last holds the remainder. Nothing is dropped,
// and empty input gives no clips.
std::vector<std::vector<float>> SplitIntoClips(std::span<const float> samples,
                                               size_t clip_samples = kAudioClipSamples);

}  // namespace g3n
