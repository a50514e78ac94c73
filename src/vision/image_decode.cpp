#include "vision/image_decode.h"

#include <cstring>
#include <fstream>
#include <vector>

#include "vision/image_decoders.h"

namespace g3n {

ImageFormat SniffImageFormat(const uint8_t* d, size_t n) {
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageFormat::Jpeg;
  if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return ImageFormat::Png;
  if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0) return ImageFormat::WebP;
  if (n >= 6 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0)) return ImageFormat::Gif;
  if (n >= 2 && d[0] == 'B' && d[1] == 'M') return ImageFormat::Bmp;
  return ImageFormat::Unknown;
}

const char* ImageFormatName(ImageFormat f) {
  switch (f) {
    case ImageFormat::Jpeg: return "JPEG";
    case ImageFormat::Png: return "PNG";
    case ImageFormat::WebP: return "WebP";
    case ImageFormat::Gif: return "GIF";
    case ImageFormat::Bmp: return "BMP";
    default: return "unknown";
  }
}

Status CheckImageSize(const char* format, int64_t width, int64_t height, const DecodeOptions& opt) {
  if (width <= 0 || height <= 0)
    return Error(std::string(format) + ": image has no pixels (" + std::to_string(width) + "x" +
                 std::to_string(height) + ")");
  if (width * height > opt.max_pixels)
    return Error(std::string(format) + ": image of " + std::to_string(width) + "x" + std::to_string(height) +
                 " pixels exceeds the limit of " + std::to_string(opt.max_pixels) + " pixels");
  return {};
}

Result<RgbImage> DecodeImage(const uint8_t* data, size_t size, const DecodeOptions& opt) {
  if (data == nullptr || size == 0) return Error("image: empty input");
  switch (SniffImageFormat(data, size)) {
    case ImageFormat::Jpeg: return DecodeJpeg(data, size, opt);
    case ImageFormat::Png: return DecodePng(data, size, opt);
    case ImageFormat::WebP: return DecodeWebP(data, size, opt);
    case ImageFormat::Gif: return DecodeGif(data, size, opt);
    case ImageFormat::Bmp: return DecodeBmp(data, size, opt);
    default: break;
  }
  return Error("image: unsupported format (not JPEG, PNG, WebP, GIF or BMP; first bytes do not match)");
}

Result<RgbImage> DecodeImageFile(const std::string& path, const DecodeOptions& opt) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return Error(path + ": cannot open image file");
  const std::streamoff n = f.tellg();
  if (n < 0) return Error(path + ": cannot read image file");
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  f.seekg(0);
  if (n > 0 && !f.read(reinterpret_cast<char*>(bytes.data()), n)) return Error(path + ": cannot read image file");
  Result<RgbImage> r = DecodeImage(bytes.data(), bytes.size(), opt);
  if (!r.ok()) return Error(path + ": " + r.status().message());
  return r;
}

}  // namespace g3n
