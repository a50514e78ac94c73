#include "vision/mobilenet_v5.h"

#include "vision/conv_ops.h"
#include "vision/mobilenet_blocks.h"

namespace g3n {

Result<std::vector<float>> EncodeImage(const VisionWeights& w, const float* pixels, int height, int width,
                                       ThreadPool* pool, VisionTrace* trace) {
  if (height <= 0 || width <= 0 || height % 32 != 0 || width % 32 != 0)
    return Error("vision: input " + std::to_string(height) + "x" + std::to_string(width) +
                 " is not a positive multiple of 32");
  const float eps = w.config.norm_eps;
  const FeatureMap in = FromChw(pixels, 3, height, width);
  FeatureMap x;
  DenseConv2d(in, w.stem, &x, pool);
  RmsNorm2d(&x, w.stem_bn, eps, true, pool);
  if (trace != nullptr) {
    trace->stem = x;
    trace->blocks.assign(w.stages.size(), {});
  }
  // The MSFA reads the outputs of the last two stages.
  FeatureMap fine;
  for (size_t s = 0; s < w.stages.size(); ++s) {
    for (const VisionBlock& b : w.stages[s]) {
      x = RunBlock(b, x, eps, pool);
      if (trace != nullptr) trace->blocks[s].push_back(x);
    }
    if (s + 2 == w.stages.size()) fine = x;
  }
  G3N_ASSIGN_OR_RETURN(FeatureMap out, RunMsfa(w, fine, x, pool, trace != nullptr ? &trace->msfa : nullptr));
  if (trace != nullptr) trace->msfa_out = out;
  return std::move(out.d);
}

}  // namespace g3n
