// The MobileNet-V5 tower, MSFA and embed_vision of tests/fixtures/tiny-vision against timm +
// transformers (float32), stage by stage; conditional binding and refusal of bad checkpoints.
#include <gtest/gtest.h>

#include "model/model.h"
#include "vision/conv_ops.h"
#include "vision/image_tokens.h"
#include "vision/vision_config.h"
#include "vision_test_util.h"

namespace g3n {
namespace {

void Check(const SafetensorsFile& ref, const std::string& key, const FeatureMap& got, float rel) {
  const TensorView& t = ref.tensors.at(key);
  ASSERT_EQ(t.shape, (std::vector<int64_t>{got.c, got.h, got.w})) << key;
  const std::vector<float> want = testing::ToFloats(t);
  const std::vector<float> chw = ToChw(got);
  const testing::Agreement a = testing::Compare(want, chw.data());
  std::printf("  %-16s [%d,%d,%d]  max|d| %.3e  max|ref| %.3f  cosine %.9f\n", key.c_str(), got.c, got.h, got.w,
              a.max_abs, a.max_ref, a.cosine);
  EXPECT_LE(a.max_abs, rel * a.max_ref) << key;
  EXPECT_GT(a.cosine, 0.99999) << key;
}

TEST(VisionEncoder, TinyTowerMatchesTimmStageByStage) {
  auto m = LoadModel(testing::FixtureDir("tiny-vision"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto ref = OpenSafetensors(testing::FixtureDir("tiny-vision") + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  auto e = ImageEmbedder::Create(**m);
  ASSERT_TRUE(e.ok()) << e.status().message();
  const TensorView& px8 = ref->tensors.at("pixels_u8");
  std::vector<float> px(px8.nbytes);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<float>(px8.data[i]) * (1.0f / 255.0f);
  ThreadPool pool(2);
  VisionTrace trace;
  auto soft = e->FromPixels(px.data(), &pool, &trace);
  ASSERT_TRUE(soft.ok()) << soft.status().message();
  Check(*ref, "stem", trace.stem, 1e-5f);
  for (size_t s = 0; s < trace.blocks.size(); ++s)
    for (size_t i = 0; i < trace.blocks[s].size(); ++i)
      Check(*ref, "block." + std::to_string(s) + "." + std::to_string(i), trace.blocks[s][i], 1e-4f);
  Check(*ref, "msfa_ffn", trace.msfa.ffn, 1e-4f);
  Check(*ref, "msfa", trace.msfa_out, 1e-4f);

  const std::vector<float> want = testing::ToFloats(ref->tensors.at("soft_embeddings"));
  ASSERT_EQ(soft->size(), want.size());
  const testing::Agreement a = testing::Compare(want, soft->data());
  std::printf("  soft embeddings  max|d| %.3e  max|ref| %.3f  cosine %.9f\n", a.max_abs, a.max_ref, a.cosine);
  EXPECT_LE(a.max_abs, 1e-4f * a.max_ref);

  const std::vector<float> hard = testing::ToFloats(ref->tensors.at("hard_embeddings"));
  const int V = e->config().vocab_size, H = e->text_hidden();
  float worst = 0;
  for (int r = 0; r < V; ++r) {
    auto row = e->HardToken(e->config().vocab_offset + r);
    ASSERT_TRUE(row.ok());
    worst = std::max(worst, testing::MaxAbsDiff(row->data(), hard.data() + static_cast<size_t>(r) * H, H));
  }
  std::printf("  hard embeddings  max|d| %.3e over %d rows\n", worst, V);
  EXPECT_LE(worst, 1e-5f);
  EXPECT_FALSE(e->HardToken(e->config().vocab_offset + V).ok());
  EXPECT_FALSE(e->HardToken(5).ok());
}

TEST(VisionEncoder, RefusesOldRevisionAndTextOnlyCheckpoints) {
  auto m = LoadModel(testing::FixtureDir("tiny-vision"));
  ASSERT_TRUE(m.ok());
  (*m)->checkpoint.tensors.erase("model.vision_tower.timm_model.conv_stem.conv.bias");
  auto w = BindVisionWeights(**m);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("pre-July-2025"), std::string::npos) << w.status().message();

  auto m2 = LoadModel(testing::FixtureDir("tiny-vision"));
  ASSERT_TRUE(m2.ok());
  (*m2)->checkpoint.tensors.erase("model.vision_tower.timm_model.blocks.2.2.attn.key.proj.weight");
  auto w2 = BindVisionWeights(**m2);
  ASSERT_FALSE(w2.ok());
  EXPECT_NE(w2.status().message().find("blocks.2.2.attn.key.proj.weight"), std::string::npos);

  auto t = LoadModel(testing::FixtureDir("tiny-nested"));  // default vision_config, no tower tensors
  ASSERT_TRUE(t.ok());
  auto w3 = BindVisionWeights(**t);
  ASSERT_FALSE(w3.ok());
  EXPECT_NE(w3.status().message().find("no vision tower"), std::string::npos) << w3.status().message();
}

TEST(VisionConfig, RealArchitectureLayout) {
  auto c = ParseVisionConfig(R"({"vision_config":{"architecture":"mobilenetv5_300m_enc","hidden_size":2048}})", "t");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->stages.size(), 4u);
  EXPECT_EQ(c->stages[0].size(), 3u);
  EXPECT_EQ(c->stages[1].size(), 5u);
  EXPECT_EQ(c->stages[2].size(), 37u);
  EXPECT_EQ(c->stages[3].size(), 39u);
  EXPECT_EQ(c->stages[2][9].kind, BlockKind::MobileAttention);
  EXPECT_EQ(c->stages[2][9].kv_stride, 2);
  EXPECT_EQ(c->stages[3][1].kv_dim, 96);
  EXPECT_EQ(c->soft_tokens_per_image, 256);
  EXPECT_EQ(MakeDivisible(640 * 4.0f), 2560);
  EXPECT_FALSE(ParseVisionConfig(R"({"vision_config":{"architecture":"resnet50"}})", "t").ok());
  EXPECT_FALSE(ParseBlockString("xyz_r1_c8").ok());
  EXPECT_FALSE(ParseBlockString("uir_r1_a3_k5_s3_e6_c256").ok());
  const SamePad p = ComputeSamePad(768, 3, 2);
  EXPECT_EQ(p.out, 384);
  EXPECT_EQ(p.before, 0);  // the extra padding row goes to the bottom
  EXPECT_EQ(ComputeSamePad(96, 5, 2).before, 1);
  EXPECT_EQ(ComputeSamePad(48, 5, 1).before, 2);
}

}  // namespace
}  // namespace g3n
