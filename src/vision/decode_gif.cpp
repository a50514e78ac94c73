// GIF through giflib. Only the first frame is decoded (what an animated GIF shows first): the
// logical screen filled with the background colour, then frame 0 drawn at its offset with its
// transparent index left showing the background.
#include <algorithm>
#include <cstring>
#include <vector>

#include <gif_lib.h>

#include "vision/image_decoders.h"

namespace g3n {
namespace {

struct MemReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

int ReadMem(GifFileType* gif, GifByteType* out, int n) {
  auto* r = static_cast<MemReader*>(gif->UserData);
  const size_t take = std::min(static_cast<size_t>(n), r->size - r->pos);
  std::memcpy(out, r->data + r->pos, take);
  r->pos += take;
  return static_cast<int>(take);
}

struct GifCloser {
  GifFileType* gif;
  ~GifCloser() {
    int err = 0;
    if (gif != nullptr) DGifCloseFile(gif, &err);
  }
};

Status GifError(const GifFileType* gif, int code) {
  const char* msg = GifErrorString(gif != nullptr && gif->Error != 0 ? gif->Error : code);
  return Error(std::string("GIF: ") + (msg != nullptr ? msg : "decode error"));
}

}  // namespace

Result<RgbImage> DecodeGif(const uint8_t* data, size_t size, const DecodeOptions& opt) {
  MemReader reader{data, size, 0};
  int err = 0;
  GifCloser c{DGifOpen(&reader, ReadMem, &err)};
  GifFileType* gif = c.gif;
  if (gif == nullptr) return GifError(nullptr, err);
  G3N_RETURN_IF_ERROR(CheckImageSize("GIF", gif->SWidth, gif->SHeight, opt));
  int transparent = -1;
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) return GifError(gif, D_GIF_ERR_READ_FAILED);
    if (type == TERMINATE_RECORD_TYPE) return Error("GIF: file has no image");
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR) return GifError(gif, D_GIF_ERR_READ_FAILED);
      while (ext != nullptr) {
        if (code == GRAPHICS_EXT_FUNC_CODE && ext[0] >= 4 && (ext[1] & 1)) transparent = ext[4];
        if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) return GifError(gif, D_GIF_ERR_READ_FAILED);
      }
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif) == GIF_ERROR) return GifError(gif, D_GIF_ERR_READ_FAILED);
    break;
  }
  const GifImageDesc& d = gif->Image;
  const int W = gif->SWidth, H = gif->SHeight;
  if (d.Width <= 0 || d.Height <= 0 || d.Left < 0 || d.Top < 0 || d.Left + d.Width > W || d.Top + d.Height > H)
    return Error("GIF: first frame lies outside the logical screen");
  const ColorMapObject* cmap = d.ColorMap != nullptr ? d.ColorMap : gif->SColorMap;
  if (cmap == nullptr) return Error("GIF: no colour table");
  RgbImage img;
  img.width = W;
  img.height = H;
  img.pixels.assign(static_cast<size_t>(W) * H * 3, 0);
  if (gif->SColorMap != nullptr && gif->SBackGroundColor < gif->SColorMap->ColorCount) {
    const GifColorType bg = gif->SColorMap->Colors[gif->SBackGroundColor];
    for (size_t i = 0; i < img.pixels.size(); i += 3) {
      img.pixels[i] = bg.Red;
      img.pixels[i + 1] = bg.Green;
      img.pixels[i + 2] = bg.Blue;
    }
  }
  std::vector<GifPixelType> line(static_cast<size_t>(d.Width));
  // Interlaced frames store rows in four passes: every 8th from 0, every 8th from 4, every
  // 4th from 2, every 2nd from 1.
  std::vector<int> order;
  if (d.Interlace) {
    const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    for (int p = 0; p < 4; ++p)
      for (int y = start[p]; y < d.Height; y += step[p]) order.push_back(y);
  } else {
    for (int y = 0; y < d.Height; ++y) order.push_back(y);
  }
  for (int y : order) {
    if (DGifGetLine(gif, line.data(), d.Width) == GIF_ERROR) return GifError(gif, D_GIF_ERR_READ_FAILED);
    uint8_t* dst = img.pixels.data() + (static_cast<size_t>(d.Top + y) * W + d.Left) * 3;
    for (int x = 0; x < d.Width; ++x) {
      const int v = line[x];
      if (v == transparent) continue;
      if (v >= cmap->ColorCount) return Error("GIF: pixel index outside the colour table");
      dst[3 * x] = cmap->Colors[v].Red;
      dst[3 * x + 1] = cmap->Colors[v].Green;
      dst[3 * x + 2] = cmap->Colors[v].Blue;
    }
  }
  return img;
}

}  // namespace g3n
