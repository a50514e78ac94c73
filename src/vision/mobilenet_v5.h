// The MobileNet-V5 encoder: [3, H, W] pixels -> stem -> stages of blocks -> MSFA ->
// [tokens, hidden_size] (token = row-major position on the MSFA's output grid).
#pragma once
#include <vector>

#include "kernels/thread_pool.h"
#include "util/status.h"
#include "vision/feature_map.h"
#include "vision/msfa.h"
#include "vision/vision_weights.h"

namespace g3n {

// Optional per-stage capture for tests.
struct VisionTrace {
  FeatureMap stem;
  std::vector<std::vector<FeatureMap>> blocks;  // [stage][block] outputs
  MsfaTrace msfa;
  FeatureMap msfa_out;
};

// `pixels` is CHW float32 [3, height, width]; height and width must be multiples of 32.
Result<std::vector<float>> EncodeImage(const VisionWeights& w, const float* pixels, int height, int width,
                                       ThreadPool* pool, VisionTrace* trace = nullptr);

}  // namespace g3n
