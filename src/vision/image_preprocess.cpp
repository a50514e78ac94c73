#include "vision/image_preprocess.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace g3n {
namespace {

// Integer weights of one output sample along one axis.
struct Taps {
  std::vector<int> start, count;  // first input index and number of taps per output
  std::vector<int32_t> w;         // [out, max_taps]
  int max_taps = 0;
  int precision = 0;              // fixed-point bits of w
};

double Triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// PIL/PyTorch antialias support: the triangle's radius grows with the downscale factor. The
// precision is the largest that keeps the biggest weight within int16, as PyTorch's kernel does.
Taps ComputeTaps(int in, int out) {
  Taps t;
  const double scale = static_cast<double>(in) / out;
  const double fscale = std::max(scale, 1.0);
  const double support = 1.0 * fscale;
  t.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  std::vector<double> wd(static_cast<size_t>(out) * t.max_taps, 0.0);
  t.start.resize(out);
  t.count.resize(out);
  double wmax = 0.0;
  for (int i = 0; i < out; ++i) {
    const double center = (i + 0.5) * scale;
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in);
    const int n = std::min(hi - lo, t.max_taps);
    double total = 0.0;
    double* w = &wd[static_cast<size_t>(i) * t.max_taps];
    for (int j = 0; j < n; ++j) total += (w[j] = Triangle((j + lo - center + 0.5) / fscale));
    for (int j = 0; j < n; ++j) {
      if (total != 0.0) w[j] /= total;
      wmax = std::max(wmax, w[j]);
    }
    t.start[i] = lo;
    t.count[i] = n;
  }
  for (t.precision = 0; t.precision < 22; ++t.precision)
    if (static_cast<int>(0.5 + wmax * (1 << (t.precision + 1))) >= (1 << 15)) break;
  t.w.resize(wd.size());
  for (size_t k = 0; k < wd.size(); ++k)
    t.w[k] = static_cast<int32_t>(wd[k] < 0 ? -0.5 + wd[k] * (1 << t.precision) : 0.5 + wd[k] * (1 << t.precision));
  return t;
}

uint8_t Clip8(int64_t acc, int precision) {
  const int64_t v = acc >> precision;
  return static_cast<uint8_t>(std::clamp<int64_t>(v, 0, 255));
}

RgbImage ResizeAxis(const RgbImage& img, int out, bool horizontal) {
  const int in = horizontal ? img.width : img.height;
  const Taps t = ComputeTaps(in, out);
  RgbImage r;
  r.width = horizontal ? out : img.width;
  r.height = horizontal ? img.height : out;
  r.pixels.resize(static_cast<size_t>(r.width) * r.height * 3);
  const int64_t half = t.precision > 0 ? (int64_t{1} << (t.precision - 1)) : 0;
  for (int y = 0; y < r.height; ++y) {
    for (int x = 0; x < r.width; ++x) {
      const int i = horizontal ? x : y;
      const int32_t* w = &t.w[static_cast<size_t>(i) * t.max_taps];
      int64_t acc[3] = {half, half, half};
      for (int j = 0; j < t.count[i]; ++j) {
        const int s = t.start[i] + j;
        const uint8_t* p = horizontal ? img.at(s, y) : img.at(x, s);
        for (int c = 0; c < 3; ++c) acc[c] += static_cast<int64_t>(p[c]) * w[j];
      }
      uint8_t* o = r.pixels.data() + (static_cast<size_t>(y) * r.width + x) * 3;
      for (int c = 0; c < 3; ++c) o[c] = Clip8(acc[c], t.precision);
    }
  }
  return r;
}

}  // namespace

RgbImage ResizeBilinearAA(const RgbImage& img, int out_w, int out_h) {
  RgbImage r = img;
  if (out_w != r.width) r = ResizeAxis(r, out_w, true);
  if (out_h != r.height) r = ResizeAxis(r, out_h, false);
  return r;
}

std::vector<float> PreprocessImage(const RgbImage& img, const PreprocessConfig& c) {
  const RgbImage r = c.do_resize ? ResizeBilinearAA(img, c.width, c.height) : img;
  const size_t plane = static_cast<size_t>(r.width) * r.height;
  std::vector<float> out(plane * 3);
  for (size_t p = 0; p < plane; ++p) {
    for (int ch = 0; ch < 3; ++ch) {
      float v = static_cast<float>(r.pixels[p * 3 + ch]);
      if (c.do_rescale) v *= c.rescale_factor;
      if (c.do_normalize) v = (v - c.mean[ch]) / c.std[ch];
      out[ch * plane + p] = v;
    }
  }
  return out;
}

Result<PreprocessConfig> ParsePreprocessConfig(const std::string& text, const std::string& source) {
  PreprocessConfig c;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(source + ": not a JSON object");
  try {
    if (j.contains("size")) {
      const auto& s = j["size"];
      if (s.contains("height")) c.height = s["height"].get<int>();
      if (s.contains("width")) c.width = s["width"].get<int>();
    }
    if (j.contains("do_resize")) c.do_resize = j["do_resize"].get<bool>();
    if (j.contains("do_rescale")) c.do_rescale = j["do_rescale"].get<bool>();
    if (j.contains("rescale_factor")) c.rescale_factor = j["rescale_factor"].get<float>();
    if (j.contains("do_normalize")) c.do_normalize = j["do_normalize"].get<bool>();
    for (int i = 0; i < 3; ++i) {
      if (j.contains("image_mean")) c.mean[i] = j["image_mean"].at(i).get<float>();
      if (j.contains("image_std")) c.std[i] = j["image_std"].at(i).get<float>();
    }
    if (j.contains("resample") && j["resample"].get<int>() != 2)
      return Error(source + ": resample " + std::to_string(j["resample"].get<int>()) +
                   " is not supported (only 2, bilinear)");
  } catch (const nlohmann::json::exception& e) {
    return Error(source + ": " + e.what());
  }
  if (c.height <= 0 || c.width <= 0) return Error(source + ": size must be positive");
  return c;
}

Result<PreprocessConfig> LoadPreprocessConfig(const std::string& model_dir) {
  const std::string path = model_dir + "/preprocessor_config.json";
  if (!std::filesystem::exists(path)) return PreprocessConfig{};
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ParsePreprocessConfig(ss.str(), path);
}

}  // namespace g3n
