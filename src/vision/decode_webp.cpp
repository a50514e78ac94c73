// WebP (lossy and lossless, still images) through libwebp; alpha is dropped, as the
// reference's RGB decode does.
#include <webp/decode.h>

#include "vision/image_decoders.h"

namespace g3n {

Result<RgbImage> DecodeWebP(const uint8_t* data, size_t size, const DecodeOptions& opt) {
  WebPBitstreamFeatures f;
  const VP8StatusCode code = WebPGetFeatures(data, size, &f);
  if (code == VP8_STATUS_NOT_ENOUGH_DATA) return Error("WebP: file is truncated");
  if (code != VP8_STATUS_OK) return Error("WebP: invalid header (status " + std::to_string(code) + ")");
  if (f.has_animation) return Error("WebP: animated WebP is not supported");
  G3N_RETURN_IF_ERROR(CheckImageSize("WebP", f.width, f.height, opt));
  RgbImage img;
  img.width = f.width;
  img.height = f.height;
  img.pixels.resize(static_cast<size_t>(f.width) * f.height * 3);
  if (WebPDecodeRGBInto(data, size, img.pixels.data(), img.pixels.size(), f.width * 3) == nullptr)
    return Error("WebP: corrupt or truncated image data");
  return img;
}

}  // namespace g3n
