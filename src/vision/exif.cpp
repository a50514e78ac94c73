#include "vision/exif.h"

#include <cstring>

namespace g3n {
namespace {

struct TiffReader {
  const uint8_t* p;
  size_t n;
  bool little;
  bool ok(size_t off, size_t len) const { return off <= n && len <= n - off; }
  uint32_t u16(size_t off) const {
    return little ? p[off] | (p[off + 1] << 8) : (p[off] << 8) | p[off + 1];
  }
  uint32_t u32(size_t off) const {
    return little ? p[off] | (p[off + 1] << 8) | (p[off + 2] << 16) | (static_cast<uint32_t>(p[off + 3]) << 24)
                  : (static_cast<uint32_t>(p[off]) << 24) | (p[off + 1] << 16) | (p[off + 2] << 8) | p[off + 3];
  }
};

}  // namespace

int ExifOrientation(const uint8_t* app1, size_t size) {
  if (size < 6 + 8 || std::memcmp(app1, "Exif\0\0", 6) != 0) return 1;
  TiffReader t{app1 + 6, size - 6, false};
  if (t.p[0] == 'I' && t.p[1] == 'I') t.little = true;
  else if (!(t.p[0] == 'M' && t.p[1] == 'M')) return 1;
  if (t.u16(2) != 42) return 1;
  const size_t ifd = t.u32(4);
  if (!t.ok(ifd, 2)) return 1;
  const uint32_t count = t.u16(ifd);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t e = ifd + 2 + 12 * static_cast<size_t>(i);
    if (!t.ok(e, 12)) return 1;
    if (t.u16(e) != 0x0112) continue;
    if (t.u16(e + 2) != 3) return 1;  // must be SHORT
    const uint32_t v = t.u16(e + 8);
    return (v >= 1 && v <= 8) ? static_cast<int>(v) : 1;
  }
  return 1;
}

RgbImage ApplyOrientation(const RgbImage& img, int orientation) {
  if (orientation <= 1 || orientation > 8) return img;
  const int W = img.width, H = img.height;
  const bool swap = orientation >= 5;  // 5..8 exchange the axes
  RgbImage out;
  out.width = swap ? H : W;
  out.height = swap ? W : H;
  out.pixels.resize(img.pixels.size());
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;  // source pixel of the upright picture's (x, y)
      switch (orientation) {
        case 2: sx = W - 1 - x; break;
        case 3: sx = W - 1 - x; sy = H - 1 - y; break;
        case 4: sy = H - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = H - 1 - x; break;
        case 7: sx = W - 1 - y; sy = H - 1 - x; break;
        case 8: sx = W - 1 - y; sy = x; break;
      }
      std::memcpy(out.pixels.data() + (static_cast<size_t>(y) * out.width + x) * 3, img.at(sx, sy), 3);
    }
  }
  return out;
}

}  // namespace g3n
