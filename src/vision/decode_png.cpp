// PNG through libpng's classic API, with transforms chosen to match the reference's
// RGB decode: palette and low-bit gray expanded, gray replicated, alpha and tRNS dropped (not
// composited), 16-bit samples cut to their high byte, gamma chunks ignored.
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include <png.h>

#include "vision/image_decoders.h"

namespace g3n {
namespace {

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t pos;
  char message[256];
};

void OnError(png_structp png, png_const_charp msg) {
  auto* r = static_cast<Reader*>(png_get_error_ptr(png));
  std::snprintf(r->message, sizeof(r->message), "%s", msg);
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}

void Read(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<Reader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "file is truncated");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

// Runs after libpng accepted the header; split out so that setjmp's frame holds no C++ objects.
bool ReadRows(png_structp png, png_bytep* rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  return true;
}

}  // namespace

Result<RgbImage> DecodePng(const uint8_t* data, size_t size, const DecodeOptions& opt) {
  Reader reader{data, size, 0, "unknown error"};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, OnError, OnWarning);
  if (png == nullptr) return Error("PNG: cannot create decoder");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return Error("PNG: cannot create decoder");
  }
  png_set_read_fn(png, &reader, Read);
  // libpng's own limits would reject large images with a less useful message; ours runs first.
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_uint_32 width = 0, height = 0;
  int depth = 0, color = 0;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return Error(std::string("PNG: ") + reader.message);
  }
  png_read_info(png, info);
  png_get_IHDR(png, info, &width, &height, &depth, &color, nullptr, nullptr, nullptr);
  Status st = CheckImageSize("PNG", width, height, opt);
  if (!st.ok()) {
    png_destroy_read_struct(&png, &info, nullptr);
    return st;
  }
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_strip_16(png);
  if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  RgbImage img;
  std::vector<png_bytep> rows;
  if (png_get_rowbytes(png, info) != static_cast<size_t>(width) * 3) {
    png_destroy_read_struct(&png, &info, nullptr);
    return Error("PNG: unexpected row layout after conversion to RGB");
  }
  img.width = static_cast<int>(width);
  img.height = static_cast<int>(height);
  img.pixels.resize(static_cast<size_t>(width) * height * 3);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = img.pixels.data() + static_cast<size_t>(y) * width * 3;
  const bool ok = ReadRows(png, rows.data());
  png_destroy_read_struct(&png, &info, nullptr);
  if (!ok) return Error(std::string("PNG: ") + reader.message);
  return img;
}

}  // namespace g3n
