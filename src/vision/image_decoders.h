// One decoder per container format, behind DecodeImage (image_decode.h). Each checks the
// declared size against the pixel limit before allocating and reports the format's own errors.
#pragma once
#include <cstddef>
#include <cstdint>

#include "vision/image_decode.h"

namespace g3n {

Result<RgbImage> DecodeJpeg(const uint8_t* data, size_t size, const DecodeOptions& opt);
Result<RgbImage> DecodePng(const uint8_t* data, size_t size, const DecodeOptions& opt);
Result<RgbImage> DecodeWebP(const uint8_t* data, size_t size, const DecodeOptions& opt);
Result<RgbImage> DecodeGif(const uint8_t* data, size_t size, const DecodeOptions& opt);
Result<RgbImage> DecodeBmp(const uint8_t* data, size_t size, const DecodeOptions& opt);

// The shared size check: zero or negative sides and pixel counts above the limit are errors.
Status CheckImageSize(const char* format, int64_t width, int64_t height, const DecodeOptions& opt);

}  // namespace g3n
