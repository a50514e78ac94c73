// Pixels -> the tower's input, as the reference image processor (SiglipImageProcessorFast as
// configured for Gemma 3n, spec §2.1): resize straight to the target size (aspect ratio not
// kept) with antialiased bilinear on uint8, rescale by 1/255, optional mean/std, CHW float32.
#pragma once
#include <string>
#include <vector>

#include "util/status.h"
#include "vision/image.h"

namespace g3n {

struct PreprocessConfig {
  int height = 768;
  int width = 768;
  bool do_resize = true;
  bool do_rescale = true;
  float rescale_factor = 1.0f / 255.0f;
  bool do_normalize = false;
  float mean[3] = {0.5f, 0.5f, 0.5f};
  float std[3] = {0.5f, 0.5f, 0.5f};
};

// Reads preprocessor_config.json text; keys that are absent keep the Gemma 3n defaults above.
Result<PreprocessConfig> ParsePreprocessConfig(const std::string& json, const std::string& source);
// <dir>/preprocessor_config.json, or the defaults when the file does not exist.
Result<PreprocessConfig> LoadPreprocessConfig(const std::string& model_dir);

// Separable antialiased bilinear (triangle filter widened by the downscale factor, half-pixel
// centres), horizontal pass then vertical, each rounded back to uint8 with the fixed-point
// weights of PyTorch's uint8 antialias kernel, which torchvision's resize runs.
RgbImage ResizeBilinearAA(const RgbImage& img, int out_w, int out_h);

// [3, height, width] float32, channel order R, G, B.
std::vector<float> PreprocessImage(const RgbImage& img, const PreprocessConfig& c);

}  // namespace g3n
