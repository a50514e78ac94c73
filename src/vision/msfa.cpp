#include "vision/msfa.h"

#include <cstring>

#include "vision/conv_ops.h"

namespace g3n {

Result<FeatureMap> RunMsfa(const VisionWeights& w, const FeatureMap& fine, const FeatureMap& coarse, ThreadPool* pool,
                           MsfaTrace* trace) {
  const int R = w.config.msfa_output_resolution;
  if (fine.h % R != 0 || fine.w % R != 0)
    return Error("vision: MSFA grid " + std::to_string(fine.h) + "x" + std::to_string(fine.w) +
                 " is not a multiple of the output grid " + std::to_string(R) +
                 " (image size must be a multiple of 32 * that grid / 16)");
  FeatureMap cat;
  cat.Resize(fine.h, fine.w, fine.c + coarse.c);
  for (int y = 0; y < fine.h; ++y) {
    // PyTorch nearest: source index floor(dst * in / out).
    const int sy = static_cast<int>(static_cast<int64_t>(y) * coarse.h / fine.h);
    for (int x = 0; x < fine.w; ++x) {
      const int sx = static_cast<int>(static_cast<int64_t>(x) * coarse.w / fine.w);
      float* dst = cat.px(static_cast<int64_t>(y) * fine.w + x);
      std::memcpy(dst, fine.px(static_cast<int64_t>(y) * fine.w + x), sizeof(float) * fine.c);
      std::memcpy(dst + fine.c, coarse.px(static_cast<int64_t>(sy) * coarse.w + sx), sizeof(float) * coarse.c);
    }
  }
  const float eps = w.config.norm_eps;
  FeatureMap t, f;
  PointwiseConv(cat, w.msfa_pw_exp, &t, pool);
  RmsNorm2d(&t, w.msfa_pw_exp_bn, eps, true, pool);
  PointwiseConv(t, w.msfa_pw_proj, &f, pool);
  RmsNorm2d(&f, w.msfa_pw_proj_bn, eps, false, pool);
  if (trace != nullptr) trace->ffn = f;
  const int ky = f.h / R, kx = f.w / R;
  FeatureMap out;
  out.Resize(R, R, f.c);
  const float inv = 1.0f / static_cast<float>(ky * kx);
  for (int y = 0; y < R; ++y)
    for (int x = 0; x < R; ++x) {
      float* o = out.px(static_cast<int64_t>(y) * R + x);
      for (int dy = 0; dy < ky; ++dy)
        for (int dx = 0; dx < kx; ++dx) {
          const float* in = f.px(static_cast<int64_t>(y * ky + dy) * f.w + x * kx + dx);
          for (int c = 0; c < f.c; ++c) o[c] += in[c];
        }
      for (int c = 0; c < f.c; ++c) o[c] *= inv;
    }
  RmsNorm2d(&out, w.msfa_norm, eps, false, pool);
  return out;
}

}  // namespace g3n
