// Resize + rescale against the reference image processor's output at 768x768. Stored per
// image: four full rows (0, 1, 383, 767) exactly as uint8 (the processor's values are k/255)
// and 16x16 block means as float16 (tests/fixtures/README.md).
#include <gtest/gtest.h>

#include "vision/image_decode.h"
#include "vision/image_preprocess.h"
#include "vision_test_util.h"

namespace g3n {
namespace {

const char* kImages[] = {"rgb_97x61.jpg", "rgb_97x61.png", "exif3_64x40.jpg", "exif6_64x40.jpg", "exif8_64x40.jpg",
                         "gray_50x70.jpg", "cmyk_40x30.jpg", "progressive_80x60.jpg", "rgba_64x48.png",
                         "gray_50x70.png", "gray16_40x30.png", "rgb16_36x28.png", "palette_45x33.png",
                         "lossless_70x50.webp", "lossy_70x50.webp", "rgb_33x17.bmp", "anim_40x40.gif",
                         "big_800x600.jpg"};

std::string Key(std::string name) {
  for (char& c : name)
    if (c == '.') c = '_';
  return name;
}

TEST(ImagePreprocess, MatchesReferenceProcessor) {
  auto ref = OpenSafetensors(testing::FixtureDir("vision") + "/reference.safetensors");
  ASSERT_TRUE(ref.ok()) << ref.status().message();
  const std::vector<int32_t> rows = testing::ToInts(ref->tensors.at("rows_index"));
  const PreprocessConfig cfg;  // the Gemma 3n defaults: 768x768, 1/255, no normalisation
  const int S = 768;
  for (const char* name : kImages) {
    // From our decoder's pixels: decode differences (JPEG IDCT) and resize rounding both count.
    auto img = DecodeImageFile(testing::FixtureDir("vision") + "/" + name);
    ASSERT_TRUE(img.ok()) << name << ": " << img.status().message();
    const std::vector<float> px = PreprocessImage(*img, cfg);
    ASSERT_EQ(px.size(), static_cast<size_t>(3 * S * S));
    const TensorView& r = ref->tensors.at(Key(name) + ".rows");
    double sum = 0;
    float mx = 0;
    int off = 0;
    for (int c = 0; c < 3; ++c)
      for (size_t i = 0; i < rows.size(); ++i)
        for (int x = 0; x < S; ++x) {
          const float want = r.data[(c * rows.size() + i) * S + x] / 255.0f;
          const float d = std::fabs(px[(static_cast<size_t>(c) * S + rows[i]) * S + x] - want);
          sum += d;
          mx = std::max(mx, d);
          off += d > 0.5f / 255;
        }
    const double mean = sum / (3.0 * rows.size() * S);
    const std::vector<float> pool = testing::ToFloats(ref->tensors.at(Key(name) + ".pool16"));
    double pool_diff = 0;
    for (int c = 0; c < 3; ++c)
      for (int by = 0; by < S / 16; ++by)
        for (int bx = 0; bx < S / 16; ++bx) {
          double m = 0;
          for (int y = 0; y < 16; ++y)
            for (int x = 0; x < 16; ++x) m += px[(static_cast<size_t>(c) * S + by * 16 + y) * S + bx * 16 + x];
          pool_diff = std::max(pool_diff, std::fabs(m / 256 - pool[(c * (S / 16) + by) * (S / 16) + bx]));
        }
    std::printf("  %-24s rows: mean |d| %.2e, max |d| %.4f (%d of %zu differ); 16x16 means: max |d| %.2e\n", name,
                mean, mx, off, 3 * rows.size() * S, pool_diff);
    EXPECT_LE(mean, 1.0 / 255) << name;
    EXPECT_LE(pool_diff, 1.0 / 255) << name;
  }
}

// The resize alone, on the reference's own decoded pixels: isolates the resampler.
TEST(ImagePreprocess, ResizeOnReferencePixels) {
  auto ref = OpenSafetensors(testing::FixtureDir("vision") + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  const std::vector<int32_t> rows = testing::ToInts(ref->tensors.at("rows_index"));
  int worst = 0;
  for (const char* name : kImages) {
    auto it = ref->tensors.find(Key(name) + ".decoded");
    if (it == ref->tensors.end()) continue;
    RgbImage img;
    img.height = static_cast<int>(it->second.shape[0]);
    img.width = static_cast<int>(it->second.shape[1]);
    img.pixels = testing::ToBytes(it->second);
    const RgbImage out = ResizeBilinearAA(img, 768, 768);
    const TensorView& r = ref->tensors.at(Key(name) + ".rows");
    int mx = 0, off = 0;
    for (int c = 0; c < 3; ++c)
      for (size_t i = 0; i < rows.size(); ++i)
        for (int x = 0; x < 768; ++x) {
          const int d = std::abs(out.at(x, rows[i])[c] - r.data[(c * rows.size() + i) * 768 + x]);
          mx = std::max(mx, d);
          off += d != 0;
        }
    std::printf("  %-24s resize of reference pixels: max |d| %d LSB, %d of %zu values differ\n", name, mx, off,
                3 * rows.size() * 768);
    worst = std::max(worst, mx);
  }
  EXPECT_LE(worst, 1);
}

TEST(ImagePreprocess, IdentityAtTargetSizeAndConfig) {
  RgbImage img;
  img.width = img.height = 4;
  for (int i = 0; i < 48; ++i) img.pixels.push_back(static_cast<uint8_t>(i * 5));
  EXPECT_EQ(ResizeBilinearAA(img, 4, 4).pixels, img.pixels);
  PreprocessConfig c;
  c.width = c.height = 4;
  const auto px = PreprocessImage(img, c);
  EXPECT_FLOAT_EQ(px[0], 0.0f);
  EXPECT_FLOAT_EQ(px[16], 5 * (1.0f / 255));  // channel G of pixel 0 starts plane 1
  auto p = ParsePreprocessConfig(R"({"size":{"height":192,"width":192},"do_normalize":false,"resample":2})", "t");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->height, 192);
  EXPECT_FALSE(ParsePreprocessConfig(R"({"resample":3})", "t").ok());
}

}  // namespace
}  // namespace g3n
