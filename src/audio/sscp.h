// Sub-sample conv projection (spec §3.5): two blocks of [zero pad -> Conv2d (no bias) ->
// cumulative group norm -> ReLU] over (time, freq), then a linear map of each time step's
// (freq, channel) features to the encoder width. Time shrinks by the product of the time strides.
#pragma once
#include <cstdint>
#include <vector>

#include "audio/audio_config.h"
#include "audio/audio_weights.h"
#include "kernels/thread_pool.h"

namespace g3n {

// Output frames for `frames` input frames: ceil(T / stride) per block.
int64_t SscpFrames(const AudioConfig& c, int64_t frames);

// features [frames, input_feat_size] -> out [SscpFrames(frames), hidden_size].
void RunSscp(const AudioConfig& c, const SscpWeights& w, const float* features, int64_t frames,
             std::vector<float>& out, ThreadPool* pool);

// In place on x [frames, group] with per-channel scale (channel = index % channels): the
// cumulative statistics of HF Gemma3nAudioCumulativeGroupNorm. Exposed for tests.
void CumulativeGroupNorm(float* x, int64_t frames, int64_t group, const float* scale, int channels, float eps);

}  // namespace g3n
