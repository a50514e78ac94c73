// Image decoding against the reference decoder (torchvision's RGB decode with EXIF orientation,
// as transformers loads a path; PIL for BMP), and every kind of bad input.
#include <gtest/gtest.h>

#include <cstring>

#include "vision/image_decode.h"
#include "vision_test_util.h"

namespace g3n {
namespace {

const char* kLossless[] = {"rgb_97x61.png", "rgba_64x48.png", "gray_50x70.png", "gray16_40x30.png",
                           "rgb16_36x28.png", "palette_45x33.png", "lossless_70x50.webp", "rgb_33x17.bmp",
                           "anim_40x40.gif"};
const char* kLossy[] = {"rgb_97x61.jpg", "exif3_64x40.jpg", "exif6_64x40.jpg", "exif8_64x40.jpg",
                        "gray_50x70.jpg", "cmyk_40x30.jpg", "progressive_80x60.jpg", "lossy_70x50.webp"};

class VisionDecode : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = OpenSafetensors(testing::FixtureDir("vision") + "/reference.safetensors");
    ASSERT_TRUE(r.ok()) << r.status().message();
    ref_ = new SafetensorsFile(std::move(*r));
  }
  static void TearDownTestSuite() { delete ref_; }
  static std::string Path(const std::string& name) { return testing::FixtureDir("vision") + "/" + name; }
  static const TensorView& Decoded(std::string name) {
    for (char& c : name)
      if (c == '.') c = '_';
    return ref_->tensors.at(name + ".decoded");
  }
  // Decodes `name` and compares with the reference pixels: returns max |diff|, mean |diff|.
  static std::pair<int, double> Diff(const std::string& name) {
    auto img = DecodeImageFile(Path(name));
    EXPECT_TRUE(img.ok()) << name << ": " << img.status().message();
    if (!img.ok()) return {999, 999};
    const TensorView& t = Decoded(name);
    EXPECT_EQ(img->height, t.shape[0]) << name;
    EXPECT_EQ(img->width, t.shape[1]) << name;
    if (img->height != t.shape[0] || img->width != t.shape[1]) return {999, 999};
    int mx = 0;
    double sum = 0;
    for (size_t i = 0; i < t.nbytes; ++i) {
      const int d = std::abs(static_cast<int>(img->pixels[i]) - t.data[i]);
      mx = std::max(mx, d);
      sum += d;
    }
    return {mx, sum / static_cast<double>(t.nbytes)};
  }
  static SafetensorsFile* ref_;
};
SafetensorsFile* VisionDecode::ref_ = nullptr;

TEST_F(VisionDecode, LosslessFormatsMatchExactly) {
  for (const char* name : kLossless) {
    const auto [mx, mean] = Diff(name);
    EXPECT_EQ(mx, 0) << name << " mean |diff| " << mean;
  }
}

TEST_F(VisionDecode, LossyFormatsMatchClosely) {
  for (const char* name : kLossy) {
    const auto [mx, mean] = Diff(name);
    std::printf("  %-24s max |diff| %d, mean |diff| %.4f (of 255)\n", name, mx, mean);
    EXPECT_LE(mx, 2) << name;
    EXPECT_LE(mean, 0.5) << name;
  }
}

TEST_F(VisionDecode, ExifOrientationGivesUprightSize) {
  auto r3 = DecodeImageFile(Path("exif3_64x40.jpg"));
  auto r6 = DecodeImageFile(Path("exif6_64x40.jpg"));
  ASSERT_TRUE(r3.ok() && r6.ok());
  EXPECT_EQ(r3->width, 64);
  EXPECT_EQ(r3->height, 40);
  EXPECT_EQ(r6->width, 40);  // rotated a quarter turn
  EXPECT_EQ(r6->height, 64);
}

TEST_F(VisionDecode, LargeJpegAndSniffing) {
  auto r = DecodeImageFile(Path("big_800x600.jpg"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->width, 800);
  EXPECT_EQ(r->height, 600);
  const auto bytes = testing::ReadBytes(Path("rgb_97x61.png"));
  EXPECT_EQ(SniffImageFormat(bytes.data(), bytes.size()), ImageFormat::Png);
  // The same bytes from memory as from the file.
  auto m = DecodeImage(bytes.data(), bytes.size());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->pixels, DecodeImageFile(Path("rgb_97x61.png"))->pixels);
}

}  // namespace
}  // namespace g3n
