// JPEG through libjpeg(-turbo). libjpeg reports errors by calling error_exit, which must not
// return; ours longjmps back here so a bad file becomes a Status instead of exit().
#include <csetjmp>
#include <cstdio>

#include <jpeglib.h>

#include "vision/exif.h"
#include "vision/image_decoders.h"

namespace g3n {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (premature end of data, corrupt markers) would otherwise yield a gray-filled picture;
// a truncated or damaged file must fail instead.
void OnMessage(j_common_ptr cinfo, int level) {
  if (level < 0) OnError(cinfo);
}

// The RGB the reference gets from CMYK: libjpeg hands Adobe files over inverted (0 = full ink).
void CmykToRgb(const JSAMPLE* cmyk, int n, bool inverted, uint8_t* rgb) {
  for (int i = 0; i < n; ++i) {
    int k = cmyk[4 * i + 3];
    if (!inverted) k = 255 - k;
    for (int c = 0; c < 3; ++c) {
      const int v = inverted ? cmyk[4 * i + c] : 255 - cmyk[4 * i + c];
      rgb[3 * i + c] = static_cast<uint8_t>(v * k / 255);
    }
  }
}

}  // namespace

Result<RgbImage> DecodeJpeg(const uint8_t* data, size_t size, const DecodeOptions& opt) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = OnError;
  err.pub.emit_message = OnMessage;
  // Everything touched after a longjmp lives outside this frame's registers.
  RgbImage img;
  std::vector<JSAMPLE> row;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return Error(std::string("JPEG: ") + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  Status st = CheckImageSize("JPEG", cinfo.image_width, cinfo.image_height, opt);
  if (!st.ok()) {
    jpeg_destroy_decompress(&cinfo);
    return st;
  }
  int orientation = 1;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next)
    if (m->marker == JPEG_APP0 + 1 && orientation == 1) orientation = ExifOrientation(m->data, m->data_length);
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  img.width = static_cast<int>(cinfo.output_width);
  img.height = static_cast<int>(cinfo.output_height);
  img.pixels.resize(static_cast<size_t>(img.width) * img.height * 3);
  row.resize(static_cast<size_t>(img.width) * cinfo.output_components);
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t* dst = img.pixels.data() + static_cast<size_t>(cinfo.output_scanline) * img.width * 3;
    JSAMPROW rows[1] = {cmyk ? row.data() : dst};
    jpeg_read_scanlines(&cinfo, rows, 1);
    if (cmyk) CmykToRgb(row.data(), img.width, cinfo.saw_Adobe_marker, dst);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return ApplyOrientation(img, orientation);
}

}  // namespace g3n
