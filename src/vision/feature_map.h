// An activation map of the vision tower, stored HWC (channels contiguous per pixel) so that
// 1x1 convs are one matmul over pixels and RmsNorm2d is one row norm per pixel. Tests and
// fixtures use PyTorch's CHW order; ToChw converts.
#pragma once
#include <cstdint>
#include <vector>

namespace g3n {

struct FeatureMap {
  int h = 0, w = 0, c = 0;
  std::vector<float> d;  // [h*w, c]

  int64_t pixels() const { return static_cast<int64_t>(h) * w; }
  void Resize(int hh, int ww, int cc) {
    h = hh;
    w = ww;
    c = cc;
    d.resize(static_cast<size_t>(hh) * ww * cc);
  }
  float* px(int64_t p) { return d.data() + p * c; }
  const float* px(int64_t p) const { return d.data() + p * c; }
};

std::vector<float> ToChw(const FeatureMap& m);
FeatureMap FromChw(const float* chw, int c, int h, int w);

}  // namespace g3n
