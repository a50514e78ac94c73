// The towers in 8 / 4 bits (WeightStore, --encoder-type) against the float32 reference of the
// tiny multimodal fixtures, and the towers of an HF folder serving a GGUF text model (--mmproj).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "audio/audio_tokens.h"
#include "audio/audio_weights.h"
#include "c_api_test_util.h"
#include "gemma3n.h"
#include "kernels/ops.h"
#include "model/gguf_convert.h"
#include "model/model.h"
#include "model/weight_store.h"
#include "media_test_util.h"
#include "vision/image_tokens.h"
#include "vision_test_util.h"

namespace g3n {
namespace {

namespace fs = std::filesystem;
using testing::Argmaxes;
using testing::NextIds;

TEST(WeightStore, ParsesTypes) {
  EXPECT_EQ(*ParseEncoderWeightType(""), DType::Unknown);
  EXPECT_EQ(*ParseEncoderWeightType("stored"), DType::Unknown);
  EXPECT_EQ(*ParseEncoderWeightType("q8_0"), DType::Q8_0);
  EXPECT_EQ(*ParseEncoderWeightType("Q4_0"), DType::Q4_0);
  auto bad = ParseEncoderWeightType("Q3_K");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("Q8_0"), std::string::npos);
}

// A re-encoded matrix multiplies like its Q8_0 rows decoded (the reference), and a row length
// that does not fit the blocks is left as it was.
TEST(WeightStore, RequantizedMatrixMatchesItsDecodedRows) {
  const int64_t R = 40, C = 96;
  std::vector<float> w(R * C), x(3 * C);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.37f * static_cast<float>(i)) * 0.5f;
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.11f * static_cast<float>(i));
  WeightMatrix m{DType::F32, reinterpret_cast<const uint8_t*>(w.data()), R, C, C * sizeof(float)};
  std::vector<float> owned = w;
  WeightMatrix o{DType::F32, reinterpret_cast<const uint8_t*>(owned.data()), R, C, C * sizeof(float)};
  ThreadPool pool(2);
  WeightStore store(DType::Q8_0);
  store.Requantize(&m, &pool);
  store.RequantizeOwned(&o, &owned, &pool);
  ASSERT_EQ(m.dtype, DType::Q8_0);
  ASSERT_EQ(o.dtype, DType::Q8_0);
  EXPECT_TRUE(owned.empty());
  EXPECT_EQ(store.bytes(), 2 * RowBytes(DType::Q8_0, C) * R);
  std::vector<float> y(3 * R), ref(3 * R), decoded(R * C);
  for (int64_t r = 0; r < R; ++r) RowToF32(DType::Q8_0, m.row(r), C, decoded.data() + r * C);
  MatMul(m, x.data(), 3, y.data(), R, &pool);
  WeightMatrix d{DType::F32, reinterpret_cast<const uint8_t*>(decoded.data()), R, C, C * sizeof(float)};
  MatMul(d, x.data(), 3, ref.data(), R, nullptr);
  float scale = testing::MaxAbs(ref.data(), ref.size());
  // Only the activations' own 8-bit rounding separates the two.
  EXPECT_LE(testing::MaxAbsDiff(y.data(), ref.data(), y.size()), 0.02f * scale);

  std::vector<float> odd(5 * 30, 1.0f);
  WeightMatrix n{DType::F32, reinterpret_cast<const uint8_t*>(odd.data()), 5, 30, 30 * sizeof(float)};
  store.Requantize(&n, &pool);
  EXPECT_EQ(n.dtype, DType::F32);
  WeightStore keep;  // stored types
  WeightMatrix k{DType::F32, reinterpret_cast<const uint8_t*>(w.data()), R, C, C * sizeof(float)};
  keep.Requantize(&k, &pool);
  EXPECT_EQ(k.dtype, DType::F32);
  EXPECT_EQ(keep.bytes(), 0u);
}

struct Measured {
  double rel = 0, cosine = 0;
};

Measured Agree(const std::vector<float>& want, const std::vector<float>& got) {
  EXPECT_EQ(want.size(), got.size());
  const testing::Agreement a = testing::Compare(want, got.data());
  return {a.max_abs / std::max(a.max_ref, 1e-6f), a.cosine};
}

std::vector<float> TinyPixels(const SafetensorsFile& ref) {
  const TensorView& px8 = ref.tensors.at("pixels_u8");
  std::vector<float> px(px8.nbytes);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<float>(px8.data[i]) * (1.0f / 255.0f);
  return px;
}

// The bounds are what these runs measure (Q8_0: cosine 0.9997-0.9998, rel 0.03; Q4_0: 0.971-0.974, rel 0.26-0.34) with a margin: the
// tiny tower's 16/24/48-channel convs do not fit 32-blocks and stay float, the rest is 8-bit.
TEST(EncoderWeights, VisionTowerInEightAndFourBits) {
  auto m = LoadModel(testing::FixtureDir("tiny-vision"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto ref = OpenSafetensors(testing::FixtureDir("tiny-vision") + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  const std::vector<float> px = TinyPixels(*ref);
  const std::vector<float> want = testing::ToFloats(ref->tensors.at("soft_embeddings"));
  ThreadPool pool(2);
  for (auto [type, min_cos, max_rel] : {std::tuple{DType::Q8_0, 0.9995, 0.05}, std::tuple{DType::Q4_0, 0.95, 0.5}}) {
    auto e = ImageEmbedder::Create((*m)->checkpoint, (*m)->config.text.hidden_size, type, &pool);
    ASSERT_TRUE(e.ok()) << e.status().message();
    EXPECT_GT(e->weights().store.bytes(), 0u);
    EXPECT_EQ(e->weights().embed_projection.dtype, type);
    auto soft = e->FromPixels(px.data(), &pool);
    ASSERT_TRUE(soft.ok()) << soft.status().message();
    const Measured a = Agree(want, *soft);
    std::printf("  vision %s: soft embeddings rel max|d| %.3g, cosine %.6f, %zu bytes re-encoded\n", DTypeName(type),
                a.rel, a.cosine, e->weights().store.bytes());
    EXPECT_GE(a.cosine, min_cos) << DTypeName(type);
    EXPECT_LE(a.rel, max_rel) << DTypeName(type);
  }
}

TEST(EncoderWeights, AudioTowerInEightAndFourBits) {
  auto m = LoadModel(testing::FixtureDir("tiny-audio"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto ref = OpenSafetensors(testing::FixtureDir("tiny-audio") + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  const std::vector<float> feats = testing::ToFloats(ref->tensors.at("long.features"));
  const TensorView& mask = ref->tensors.at("long.features_mask");
  const std::vector<float> want = testing::ToFloats(ref->tensors.at("long.rows"));
  ThreadPool pool(2);
  for (auto [type, min_cos, max_rel] : {std::tuple{DType::Q8_0, 0.9995, 0.05}, std::tuple{DType::Q4_0, 0.95, 0.5}}) {
    auto w = BindAudioWeights(**m);
    ASSERT_TRUE(w.ok()) << w.status().message();
    RequantizeAudioWeights(&*w, type, &pool);
    EXPECT_EQ(w->blocks[0].ffw_start.up.dtype, type);
    EXPECT_EQ(w->embed.projection.dtype, type);
    // A 30 s clip: 12 conformer blocks' worth of 8-bit matrices in the tiny tower's 2.
    AudioTokens tokens(*w, &pool);
    auto rows = tokens.ClipRows(feats.data(), mask.data, static_cast<int64_t>(mask.nbytes));
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    const Measured a = Agree(want, *rows);
    std::printf("  audio %s: 188 rows rel max|d| %.3g, cosine %.6f, %zu bytes re-encoded\n", DTypeName(type), a.rel,
                a.cosine, w->store.bytes());
    EXPECT_GE(a.cosine, min_cos) << DTypeName(type);
    EXPECT_LE(a.rel, max_rel) << DTypeName(type);
  }
}

// ---- A GGUF text model with the towers of its HF folder (--mmproj) -------------------------

std::string GgufOf(const std::string& fixture) {
  const fs::path dir = fs::path(::testing::TempDir()) / "g3n_encoder_weights_test";
  fs::create_directories(dir);
  const std::string out = (dir / (fixture + ".f32.gguf")).string();
  auto m = LoadModel(testing::FixtureDir(fixture));
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) return out;
  GgufConvertOptions opt;
  opt.mix = GgufMix::F32;
  const Status st = ConvertToGguf(**m, testing::FixtureDir(fixture), out, opt);
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

g3n_model* LoadWithTowers(const std::string& path, const char* towers, const char* encoder_type = nullptr,
                          g3n_status want = G3N_OK) {
  g3n_model_options o;
  g3n_model_options_init(&o);
  o.threads = 2;
  o.context = 256;
  o.kv_type = "f32";
  o.prefill_chunk = 64;
  o.towers = towers;
  o.encoder_type = encoder_type;
  g3n_model* m = nullptr;
  EXPECT_EQ(g3n_model_load(path.c_str(), &o, &m), want) << g3n_last_error();
  return m;
}

TEST(Towers, GgufTextModelWithTheFolderTowersFollowsTransformers) {
  const std::string vision_gguf = GgufOf("tiny-vision"), audio_gguf = GgufOf("tiny-audio");
  const std::string vision_dir = testing::FixtureDir("tiny-vision"), audio_dir = testing::FixtureDir("tiny-audio");

  auto vref = OpenSafetensors(vision_dir + "/reference.safetensors");
  ASSERT_TRUE(vref.ok());
  const TensorView& px = vref->tensors.at("pixels_u8");
  const std::vector<uint8_t> bmp = testing::Bmp(px.data, static_cast<int>(px.shape[2]), static_cast<int>(px.shape[1]));
  const std::vector<int32_t> vids = testing::ToInts(vref->tensors.at("input_ids"));
  g3n_model* m = LoadWithTowers(vision_gguf, vision_dir.c_str());
  ASSERT_NE(m, nullptr);
  g3n_session* s = nullptr;
  ASSERT_EQ(g3n_session_create(m, &s), G3N_OK);
  ASSERT_EQ(g3n_session_add_image(s, bmp.data(), bmp.size()), G3N_OK) << g3n_last_error();
  ASSERT_EQ(g3n_session_add_tokens(s, vids.data(), vids.size()), G3N_OK) << g3n_last_error();
  EXPECT_EQ(NextIds(s, vids.size()), Argmaxes(testing::ToFloats(vref->tensors.at("logits")), vids.size()));
  g3n_session_free(s);
  g3n_model_free(m);

  auto aref = OpenSafetensors(audio_dir + "/reference.safetensors");
  ASSERT_TRUE(aref.ok());
  const std::vector<uint8_t> wav = testing::Wav(testing::TinyAudioClip());
  const std::vector<int32_t> aids = testing::ToInts(aref->tensors.at("prompt_ids"));
  m = LoadWithTowers(audio_gguf, audio_dir.c_str(), "Q8_0");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(g3n_session_create(m, &s), G3N_OK);
  ASSERT_EQ(g3n_session_add_audio(s, wav.data(), wav.size()), G3N_OK) << g3n_last_error();
  ASSERT_EQ(g3n_session_add_tokens(s, aids.data(), aids.size()), G3N_OK) << g3n_last_error();
  // With 8-bit towers the greedy ids still follow the reference at most positions; exact
  // equality is for the float path above.
  const std::vector<int> got = NextIds(s, aids.size());
  const std::vector<int> want = Argmaxes(testing::ToFloats(aref->tensors.at("prompt_logits")), aids.size());
  int same = 0;
  for (size_t i = 0; i < got.size(); ++i) same += got[i] == want[i];
  std::printf("  audio Q8_0 towers beside a GGUF: %d of %zu greedy ids equal transformers'\n", same, got.size());
  EXPECT_GE(same, static_cast<int>(0.9 * got.size()));  // measured: 193 of 203
  g3n_session_free(s);
  g3n_model_free(m);
}

TEST(Towers, ClearErrors) {
  const std::string gguf = GgufOf("tiny-vision");
  auto ref = OpenSafetensors(testing::FixtureDir("tiny-vision") + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  const TensorView& px = ref->tensors.at("pixels_u8");
  const std::vector<uint8_t> bmp = testing::Bmp(px.data, static_cast<int>(px.shape[2]), static_cast<int>(px.shape[1]));
  // A GGUF alone says where the towers come from.
  g3n_model* m = LoadWithTowers(gguf, nullptr);
  ASSERT_NE(m, nullptr);
  g3n_session* s = nullptr;
  ASSERT_EQ(g3n_session_create(m, &s), G3N_OK);
  EXPECT_EQ(g3n_session_add_image(s, bmp.data(), bmp.size()), G3N_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(g3n_last_error()).find("--mmproj"), std::string::npos) << g3n_last_error();
  g3n_session_free(s);
  g3n_model_free(m);
  // Folders that are not towers for this model, a missing folder, a bad type.
  EXPECT_EQ(LoadWithTowers(gguf, testing::FixtureDir("tiny-nested").c_str(), nullptr, G3N_ERR_INVALID_ARGUMENT), nullptr);
  EXPECT_NE(std::string(g3n_last_error()).find("towers"), std::string::npos) << g3n_last_error();
  EXPECT_EQ(LoadWithTowers(gguf, "/nonexistent/towers", nullptr, G3N_ERR_IO), nullptr);
  EXPECT_EQ(LoadWithTowers(gguf, nullptr, "Q2_K", G3N_ERR_INVALID_ARGUMENT), nullptr);
  EXPECT_NE(std::string(g3n_last_error()).find("encoder"), std::string::npos) << g3n_last_error();
}

}  // namespace
}  // namespace g3n
