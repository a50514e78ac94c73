// Every kind of bad image input gives a clear error, never a crash or an exit: truncation at
// several points, corrupt bytes, zero sizes, dimensions that would allocate gigabytes
// (refused from the header), and formats we do not read.
#include <gtest/gtest.h>

#include <cstring>

#include "vision/image_decode.h"
#include "vision_test_util.h"

namespace g3n {
namespace {

std::vector<uint8_t> Fixture(const std::string& name) {
  auto b = testing::ReadBytes(testing::FixtureDir("vision") + "/" + name);
  EXPECT_FALSE(b.empty()) << name;
  return b;
}

void ExpectError(const std::vector<uint8_t>& b, const std::string& what, const std::string& needle = "") {
  auto r = DecodeImage(b.data(), b.size());
  ASSERT_FALSE(r.ok()) << what << ": decoded to " << r->width << "x" << r->height;
  EXPECT_FALSE(r.status().message().empty()) << what;
  if (!needle.empty()) {
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << what << ": " << r.status().message();
  }
}

uint32_t Crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void PutBe32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

// A PNG's IHDR with new dimensions and a valid CRC (so only our size check can object).
std::vector<uint8_t> PngWithSize(uint32_t w, uint32_t h) {
  auto b = Fixture("rgb_97x61.png");
  PutBe32(&b[16], w);
  PutBe32(&b[20], h);
  PutBe32(&b[29], Crc32(&b[12], 17));
  return b;
}

size_t FindJpegSof(const std::vector<uint8_t>& b) {
  for (size_t i = 2; i + 9 < b.size(); ++i)
    if (b[i] == 0xFF && (b[i + 1] == 0xC0 || b[i + 1] == 0xC2)) return i;
  return 0;
}

TEST(VisionBadInput, EmptyAndUnknown) {
  ExpectError({}, "empty", "empty");
  const std::string text = "hello, this is not a picture";
  ExpectError(std::vector<uint8_t>(text.begin(), text.end()), "text", "unsupported");
  ExpectError({'I', 'I', 42, 0, 8, 0, 0, 0}, "TIFF", "unsupported");
  auto f = DecodeImageFile("/nonexistent/picture.png");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("/nonexistent/picture.png"), std::string::npos);
}

TEST(VisionBadInput, TruncatedFilesOfEveryFormat) {
  for (const char* name : {"rgb_97x61.jpg", "progressive_80x60.jpg", "rgb_97x61.png", "lossless_70x50.webp",
                           "lossy_70x50.webp", "anim_40x40.gif", "rgb_33x17.bmp"}) {
    const auto full = Fixture(name);
    for (double frac : {0.02, 0.3, 0.6, 0.9}) {
      // The GIF's first frame ends well before the file does (a second frame follows).
      if (std::string(name) == "anim_40x40.gif" && frac > 0.45) continue;
      std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(full.size() * frac));
      ExpectError(cut, std::string(name) + " cut at " + std::to_string(frac));
    }
    ExpectError(std::vector<uint8_t>(full.begin(), full.begin() + 4), std::string(name) + " first 4 bytes");
  }
}

TEST(VisionBadInput, CorruptBytes) {
  auto png = Fixture("rgb_97x61.png");
  png[40] ^= 0xFF;  // inside IDAT: the chunk CRC no longer matches
  ExpectError(png, "PNG with a flipped byte");
  auto jpg = Fixture("rgb_97x61.jpg");
  const size_t sof = FindJpegSof(jpg);
  ASSERT_GT(sof, 0u);
  jpg[sof + 4] = 7;  // 7-bit samples: not a JPEG libjpeg reads
  ExpectError(jpg, "JPEG with a bad precision");
  auto jpg2 = Fixture("rgb_97x61.jpg");
  std::memset(jpg2.data() + jpg2.size() / 2, 0xFF, 64);  // a run of marker bytes inside the scan
  ExpectError(jpg2, "JPEG with a damaged scan");
  auto webp = Fixture("lossy_70x50.webp");
  std::memset(webp.data() + 20, 0x55, 8);  // the VP8 frame tag and start code
  ExpectError(webp, "WebP with a damaged frame header");
  auto gif = Fixture("anim_40x40.gif");
  gif[10] = 0;  // no global colour table flag: the frame has no colours to read
  ExpectError(gif, "GIF without a colour table");
  auto bmp = Fixture("rgb_33x17.bmp");
  bmp[28] = 7;  // 7 bits per pixel
  ExpectError(bmp, "BMP with a bad bit depth", "bit depth");
}

TEST(VisionBadInput, ZeroSize) {
  ExpectError(PngWithSize(0, 61), "PNG 0 wide");
  auto jpg = Fixture("rgb_97x61.jpg");
  const size_t sof = FindJpegSof(jpg);
  jpg[sof + 5] = 0;
  jpg[sof + 6] = 0;  // height 0
  ExpectError(jpg, "JPEG 0 high");
  auto bmp = Fixture("rgb_33x17.bmp");
  std::memset(&bmp[18], 0, 8);  // 0x0
  ExpectError(bmp, "BMP 0x0", "no pixels");
  auto gif = Fixture("anim_40x40.gif");
  gif[6] = gif[7] = 0;
  ExpectError(gif, "GIF 0 wide");
}

TEST(VisionBadInput, DecompressionBombsRefusedBeforeAllocating) {
  ExpectError(PngWithSize(100000, 100000), "PNG 100000^2", "exceeds the limit");
  auto jpg = Fixture("rgb_97x61.jpg");
  const size_t sof = FindJpegSof(jpg);
  for (int i = 0; i < 2; ++i) {  // 60000 x 60000 (libjpeg itself stops at 65500)
    jpg[sof + 5 + 2 * i] = 0xEA;
    jpg[sof + 6 + 2 * i] = 0x60;
  }
  ExpectError(jpg, "JPEG 60000^2", "exceeds the limit");
  auto gif = Fixture("anim_40x40.gif");
  std::memset(&gif[6], 0xFF, 4);
  ExpectError(gif, "GIF 65535^2", "exceeds the limit");
  auto bmp = Fixture("rgb_33x17.bmp");
  const uint32_t big = 100000;
  std::memcpy(&bmp[18], &big, 4);
  std::memcpy(&bmp[22], &big, 4);
  ExpectError(bmp, "BMP 100000^2", "exceeds the limit");
  auto webp = Fixture("lossless_70x50.webp");
  ASSERT_EQ(std::memcmp(&webp[12], "VP8L", 4), 0);
  uint32_t bits;
  std::memcpy(&bits, &webp[21], 4);
  bits |= 0x3FFFu | (0x3FFFu << 14);  // 16384 x 16384
  std::memcpy(&webp[21], &bits, 4);
  ExpectError(webp, "WebP 16384^2", "exceeds the limit");
  // A lower limit applies to ordinary pictures too.
  auto png = Fixture("rgb_97x61.png");
  DecodeOptions small;
  small.max_pixels = 1000;
  EXPECT_FALSE(DecodeImage(png.data(), png.size(), small).ok());
}

}  // namespace
}  // namespace g3n
