// The tower's kernels over HWC feature maps: dense kxk conv (im2col + the repo's matmul),
// depthwise conv, pointwise conv (a matmul over pixels), RmsNorm2d (+GELU), all with
// TensorFlow "SAME" padding as timm builds the tower (pad_type='same', spec §2.2).
#pragma once
#include <vector>

#include "kernels/matrix.h"
#include "kernels/thread_pool.h"
#include "vision/feature_map.h"
#include "vision/vision_weights.h"

namespace g3n {

// TF "SAME": output = ceil(in / stride); the padding total is split with the extra row/column
// at the bottom/right (zeros).
struct SamePad {
  int out = 0, before = 0;
};
SamePad ComputeSamePad(int in, int k, int stride);

void DenseConv2d(const FeatureMap& x, const DenseConv& conv, FeatureMap* y, ThreadPool* pool);
void DepthwiseConv2d(const FeatureMap& x, const DepthwiseConv& conv, FeatureMap* y, ThreadPool* pool);
void PointwiseConv(const FeatureMap& x, const WeightMatrix& w, FeatureMap* y, ThreadPool* pool);
// Per pixel over channels: x / sqrt(mean(x^2) + eps) * w, then GELU(tanh) when `gelu`.
void RmsNorm2d(FeatureMap* x, const std::vector<float>& w, float eps, bool gelu, ThreadPool* pool);
// y[p, c] = x[p, c] * gamma[c] (+ residual[p, c]).
void ScaleAdd(FeatureMap* y, const std::vector<float>& gamma, const FeatureMap* residual, ThreadPool* pool);

}  // namespace g3n
