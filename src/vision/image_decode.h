// Image file bytes -> upright 8-bit RGB, as the reference sees a file: JPEG, PNG, WebP, GIF
// (first frame) and BMP; the EXIF orientation of JPEGs applied; alpha dropped (not composited),
// gray replicated, 16-bit samples reduced to their high byte, CMYK converted.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "util/status.h"
#include "vision/image.h"

namespace g3n {

struct DecodeOptions {
  // Pictures above this many pixels are refused from their header, before any pixel buffer
  // exists: a few hundred bytes can declare gigapixels (decompression bombs).
  int64_t max_pixels = 64ll << 20;
};

enum class ImageFormat { Unknown, Jpeg, Png, WebP, Gif, Bmp };
ImageFormat SniffImageFormat(const uint8_t* data, size_t size);
const char* ImageFormatName(ImageFormat f);

Result<RgbImage> DecodeImage(const uint8_t* data, size_t size, const DecodeOptions& opt = {});
Result<RgbImage> DecodeImageFile(const std::string& path, const DecodeOptions& opt = {});

}  // namespace g3n
