// Multi-scale fusion adapter (spec §2.5): the last two stages' maps, the coarser one upsampled
// (nearest) to the finer one's grid, concatenated, an FFN (1x1 expand + GELU, 1x1 project, no
// skip), average-pooled down to the output grid, RmsNorm2d.
#pragma once
#include "kernels/thread_pool.h"
#include "util/status.h"
#include "vision/feature_map.h"
#include "vision/vision_weights.h"

namespace g3n {

struct MsfaTrace {
  FeatureMap ffn;  // after the FFN, before pooling
};

Result<FeatureMap> RunMsfa(const VisionWeights& w, const FeatureMap& fine, const FeatureMap& coarse, ThreadPool* pool,
                           MsfaTrace* trace = nullptr);

}  // namespace g3n
