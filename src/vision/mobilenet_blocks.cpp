#include "vision/mobilenet_blocks.h"

#include "vision/conv_ops.h"

namespace g3n {

FeatureMap RunEdgeResidual(const VisionBlock& b, const FeatureMap& x, float eps, ThreadPool* pool) {
  FeatureMap t, y;
  DenseConv2d(x, b.conv_exp, &t, pool);
  RmsNorm2d(&t, b.bn1, eps, true, pool);
  PointwiseConv(t, b.conv_pwl, &y, pool);
  RmsNorm2d(&y, b.bn2, eps, false, pool);
  if (b.residual)
    for (size_t i = 0; i < y.d.size(); ++i) y.d[i] += x.d[i];
  return y;
}

FeatureMap RunUniversalInvertedResidual(const VisionBlock& b, const FeatureMap& x, float eps, ThreadPool* pool) {
  FeatureMap a, t;
  const FeatureMap* in = &x;
  if (!b.dw_start.w.empty()) {
    DepthwiseConv2d(x, b.dw_start, &a, pool);
    RmsNorm2d(&a, b.dw_start_bn, eps, false, pool);
    in = &a;
  }
  PointwiseConv(*in, b.pw_exp, &t, pool);
  RmsNorm2d(&t, b.pw_exp_bn, eps, true, pool);
  if (!b.dw_mid.w.empty()) {
    DepthwiseConv2d(t, b.dw_mid, &a, pool);
    RmsNorm2d(&a, b.dw_mid_bn, eps, true, pool);
    std::swap(a, t);
  }
  FeatureMap y;
  PointwiseConv(t, b.pw_proj, &y, pool);
  RmsNorm2d(&y, b.pw_proj_bn, eps, false, pool);
  ScaleAdd(&y, b.layer_scale, b.residual ? &x : nullptr, pool);
  return y;
}

FeatureMap RunBlock(const VisionBlock& b, const FeatureMap& x, float eps, ThreadPool* pool) {
  switch (b.spec.kind) {
    case BlockKind::EdgeResidual: return RunEdgeResidual(b, x, eps, pool);
    case BlockKind::UniversalInvertedResidual: return RunUniversalInvertedResidual(b, x, eps, pool);
    case BlockKind::MobileAttention: return RunMobileAttention(b, x, eps, pool);
  }
  return x;
}

}  // namespace g3n
