// BMP by hand (no library needed): BITMAPCOREHEADER / INFOHEADER / V4 / V5; 1, 4, 8-bit
// palettes, 16-bit 5-5-5 or bitfields, 24-bit, 32-bit (alpha/X byte dropped); bottom-up or
// top-down rows padded to 4 bytes. RLE compression is refused.
#include <cstring>
#include <vector>

#include "vision/image_decoders.h"

namespace g3n {
namespace {

uint32_t U16(const uint8_t* p) { return p[0] | (p[1] << 8); }
uint32_t U32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }

// Extracts a bitfield channel scaled to 0..255.
struct Field {
  uint32_t mask = 0;
  int shift = 0;
  uint32_t max = 0;
  explicit Field(uint32_t m) : mask(m) {
    if (m == 0) return;
    while (((m >> shift) & 1u) == 0) ++shift;
    max = m >> shift;
  }
  uint8_t Get(uint32_t v) const {
    if (max == 0) return 0;
    return static_cast<uint8_t>((((v & mask) >> shift) * 255u + max / 2) / max);
  }
};

}  // namespace

Result<RgbImage> DecodeBmp(const uint8_t* d, size_t n, const DecodeOptions& opt) {
  if (n < 14 + 12) return Error("BMP: file is truncated (no header)");
  const uint32_t data_off = U32(d + 10);
  const uint32_t hsize = U32(d + 14);
  if (hsize != 12 && hsize < 40) return Error("BMP: unsupported header size " + std::to_string(hsize));
  if (n < 14 + static_cast<size_t>(hsize)) return Error("BMP: file is truncated (header)");
  int64_t width, height;
  int bpp;
  uint32_t compression = 0, colors = 0;
  if (hsize == 12) {
    width = U16(d + 18);
    height = static_cast<int16_t>(U16(d + 20));
    bpp = static_cast<int>(U16(d + 24));
  } else {
    width = static_cast<int32_t>(U32(d + 18));
    height = static_cast<int32_t>(U32(d + 22));
    bpp = static_cast<int>(U16(d + 28));
    compression = U32(d + 30);
    colors = U32(d + 46);
  }
  const bool top_down = height < 0;
  if (top_down) height = -height;
  G3N_RETURN_IF_ERROR(CheckImageSize("BMP", width, height, opt));
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
    return Error("BMP: unsupported bit depth " + std::to_string(bpp));
  if (compression != 0 && compression != 3)
    return Error("BMP: unsupported compression " + std::to_string(compression) + " (only uncompressed and bitfields)");
  // Bitfield masks follow a 40-byte header, or sit inside V4/V5 headers at the same place.
  uint32_t masks[3] = {0x7C00, 0x03E0, 0x001F};
  if (bpp == 32) { masks[0] = 0xFF0000; masks[1] = 0xFF00; masks[2] = 0xFF; }
  if (compression == 3) {
    if (n < 14 + 40 + 12) return Error("BMP: file is truncated (bitfields)");
    for (int i = 0; i < 3; ++i) masks[i] = U32(d + 54 + 4 * i);
  }
  std::vector<uint8_t> palette;  // RGB triples
  if (bpp <= 8) {
    const size_t entries = colors != 0 ? colors : (1u << bpp);
    const size_t esize = hsize == 12 ? 3 : 4;
    const size_t pal_off = 14 + hsize + (compression == 3 && hsize == 40 ? 12 : 0);
    if (entries > 256 || pal_off + entries * esize > n) return Error("BMP: bad or truncated palette");
    for (size_t i = 0; i < entries; ++i) {
      const uint8_t* e = d + pal_off + i * esize;
      palette.insert(palette.end(), {e[2], e[1], e[0]});
    }
  }
  const size_t stride = (static_cast<size_t>(width) * bpp + 31) / 32 * 4;
  if (data_off > n || stride * static_cast<size_t>(height) > n - data_off) return Error("BMP: pixel data is truncated");
  const Field fr(masks[0]), fg(masks[1]), fb(masks[2]);
  RgbImage img;
  img.width = static_cast<int>(width);
  img.height = static_cast<int>(height);
  img.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* row = d + data_off + stride * static_cast<size_t>(top_down ? y : height - 1 - y);
    uint8_t* out = img.pixels.data() + static_cast<size_t>(y) * width * 3;
    for (int64_t x = 0; x < width; ++x, out += 3) {
      if (bpp <= 8) {
        const int bits = static_cast<int>(x * bpp);
        const int idx = (row[bits / 8] >> (8 - bpp - bits % 8)) & ((1 << bpp) - 1);
        if (static_cast<size_t>(idx) * 3 >= palette.size()) return Error("BMP: pixel index outside the palette");
        std::memcpy(out, &palette[static_cast<size_t>(idx) * 3], 3);
      } else if (bpp == 24) {
        const uint8_t* p = row + x * 3;
        out[0] = p[2]; out[1] = p[1]; out[2] = p[0];
      } else {
        const uint32_t v = bpp == 16 ? U16(row + x * 2) : U32(row + x * 4);
        out[0] = fr.Get(v); out[1] = fg.Get(v); out[2] = fb.Get(v);
      }
    }
  }
  return img;
}

}  // namespace g3n
