// A decoded picture: 8-bit RGB, row-major, 3 bytes per pixel, no padding.
#pragma once
#include <cstdint>
#include <vector>

namespace g3n {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // [height][width][3]

  const uint8_t* at(int x, int y) const { return pixels.data() + (static_cast<size_t>(y) * width + x) * 3; }
};

}  // namespace g3n
