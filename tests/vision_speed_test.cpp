// Opt-in timing of the full-size tower: set G3N_VISION_REPLICA to a folder written by
// tools/make_vision_replica.py (random weights, real names and shapes). Skipped otherwise.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "io/checkpoint.h"
#include "vision/embed_vision.h"
#include "vision/mobilenet_v5.h"
#include "vision/vision_weights.h"

namespace g3n {
namespace {

TEST(VisionSpeed, FullSizeTowerOneImage) {
  const char* dir = std::getenv("G3N_VISION_REPLICA");
  if (dir == nullptr) GTEST_SKIP() << "set G3N_VISION_REPLICA (tools/make_vision_replica.py)";
  auto ck = OpenCheckpoint(dir);
  ASSERT_TRUE(ck.ok()) << ck.status().message();
  auto w = BindVisionWeights(*ck, 2048);
  ASSERT_TRUE(w.ok()) << w.status().message();
  std::vector<float> px(3 * 768 * 768);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<float>((i * 2654435761u) % 256) / 255.0f;
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    const auto t0 = std::chrono::steady_clock::now();
    auto out = EncodeImage(*w, px.data(), 768, 768, &pool);
    ASSERT_TRUE(out.ok()) << out.status().message();
    const auto soft = EmbedVisionSoft(*w, out->data(), 256, &pool);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("  MobileNet-V5-300M + embed_vision, 768x768, %d thread(s): %.0f ms\n", threads, ms);
    EXPECT_EQ(soft.size(), 256u * 2048);
  }
}

}  // namespace
}  // namespace g3n
