// Images and audio through the C API, end to end: file bytes (a BMP of the fixture's pixels, a
// 16-bit WAV of the fixture's waveform) -> g3n_session_add_image / add_audio -> the decoder, on
// the tiny multimodal fixtures. The greedy next id after every prefix of the reference prompt
// must be transformers' argmax there (tests/fixtures/tiny-vision, tiny-audio).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "c_api_test_util.h"
#include "gemma3n.h"
#include "io/safetensors.h"
#include "media_test_util.h"
#include "test_util.h"

namespace g3n {
namespace {

using testing::Argmaxes;
using testing::NextIds;

g3n_model* Load(const std::string& fixture, int text_only = 0) {
  g3n_model_options o;
  g3n_model_options_init(&o);
  o.threads = 2;
  o.context = 256;
  o.kv_type = "f32";
  o.text_only = text_only;
  // Chunks shorter than the prompts, with tiny-audio's 64-token window: the sliding-window rings
  // wrap, and NextIds then rewinds step by step past what they still hold (Session::written).
  o.prefill_chunk = 64;
  g3n_model* m = nullptr;
  EXPECT_EQ(g3n_model_load(testing::FixtureDir(fixture).c_str(), &o, &m), G3N_OK) << g3n_last_error();
  return m;
}

TEST(CApiMedia, ImageFileFollowsTransformers) {
  auto ref = OpenSafetensors(testing::FixtureDir("tiny-vision") + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  const TensorView& px = ref->tensors.at("pixels_u8");
  const std::vector<uint8_t> bmp = testing::Bmp(px.data, static_cast<int>(px.shape[2]), static_cast<int>(px.shape[1]));
  const std::vector<int32_t> ids = testing::ToInts(ref->tensors.at("input_ids"));
  g3n_model* m = Load("tiny-vision");
  ASSERT_NE(m, nullptr);
  g3n_session* s = nullptr;
  ASSERT_EQ(g3n_session_create(m, &s), G3N_OK);
  ASSERT_EQ(g3n_session_add_image(s, bmp.data(), bmp.size()), G3N_OK) << g3n_last_error();
  ASSERT_EQ(g3n_session_add_tokens(s, ids.data(), ids.size()), G3N_OK) << g3n_last_error();
  EXPECT_EQ(NextIds(s, ids.size()), Argmaxes(testing::ToFloats(ref->tensors.at("logits")), ids.size()));

  // Soft tokens with no image left to fill them are refused.
  ASSERT_EQ(g3n_session_reset(s), G3N_OK);
  EXPECT_EQ(g3n_session_add_tokens(s, ids.data(), ids.size()), G3N_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(g3n_last_error()).find("image"), std::string::npos) << g3n_last_error();
  // A broken file is a clear error and leaves the session usable.
  const std::vector<uint8_t> cut(bmp.begin(), bmp.begin() + 100);
  EXPECT_EQ(g3n_session_add_image(s, cut.data(), cut.size()), G3N_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(g3n_last_error()).find("image"), std::string::npos);
  g3n_session_free(s);
  g3n_model_free(m);

  // Text-only models and checkpoints without a vision tower refuse images.
  for (auto [fixture, text_only] : {std::pair<const char*, int>{"tiny-vision", 1}, {"tiny-chat", 0}}) {
    g3n_model* t = Load(fixture, text_only);
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(g3n_session_create(t, &s), G3N_OK);
    EXPECT_EQ(g3n_session_add_image(s, bmp.data(), bmp.size()), G3N_ERR_UNSUPPORTED) << fixture;
    g3n_session_free(s);
    g3n_model_free(t);
  }
}

TEST(CApiMedia, AudioFileFollowsTransformers) {
  auto ref = OpenSafetensors(testing::FixtureDir("tiny-audio") + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  const std::vector<uint8_t> wav = testing::Wav(testing::TinyAudioClip());
  const std::vector<int32_t> ids = testing::ToInts(ref->tensors.at("prompt_ids"));
  g3n_model* m = Load("tiny-audio");
  ASSERT_NE(m, nullptr);
  g3n_session* s = nullptr;
  ASSERT_EQ(g3n_session_create(m, &s), G3N_OK);
  ASSERT_EQ(g3n_session_add_audio(s, wav.data(), wav.size()), G3N_OK) << g3n_last_error();
  ASSERT_EQ(g3n_session_add_tokens(s, ids.data(), ids.size()), G3N_OK) << g3n_last_error();
  EXPECT_EQ(NextIds(s, ids.size()), Argmaxes(testing::ToFloats(ref->tensors.at("prompt_logits")), ids.size()));
  const std::vector<uint8_t> junk(64, 7);
  EXPECT_EQ(g3n_session_add_audio(s, junk.data(), junk.size()), G3N_ERR_INVALID_ARGUMENT);
  g3n_session_free(s);
  g3n_model_free(m);
}

}  // namespace
}  // namespace g3n
