// One MobileNet-V5 block per function (spec §2.3), input -> output feature map.
#pragma once
#include "kernels/thread_pool.h"
#include "vision/feature_map.h"
#include "vision/vision_weights.h"

namespace g3n {

// Edge residual (fused MBConv): kxk expand conv -> norm+GELU -> 1x1 project -> norm (+ skip).
FeatureMap RunEdgeResidual(const VisionBlock& b, const FeatureMap& x, float eps, ThreadPool* pool);
// Universal inverted residual: [dw_start] -> 1x1 expand -> [dw_mid] -> 1x1 project, layer scale (+ skip).
FeatureMap RunUniversalInvertedResidual(const VisionBlock& b, const FeatureMap& x, float eps, ThreadPool* pool);
// Mobile multi-query attention: norm -> MQA (one shared K/V head, optional K/V down-sampling)
// -> layer scale -> + x.
FeatureMap RunMobileAttention(const VisionBlock& b, const FeatureMap& x, float eps, ThreadPool* pool);

FeatureMap RunBlock(const VisionBlock& b, const FeatureMap& x, float eps, ThreadPool* pool);

}  // namespace g3n
