// End to end on tests/fixtures/tiny-vision: pixels -> tower -> embed_vision -> decoder logits
// for a prompt with the image placeholder expanded (<start_of_image>, N soft tokens,
// <end_of_image>) and one more vision hard token, against Gemma3nForConditionalGeneration.
#include <gtest/gtest.h>

#include "model/model.h"
#include "model/text_decoder.h"
#include "vision/image_tokens.h"
#include "vision_test_util.h"

namespace g3n {
namespace {

TEST(VisionDecoder, LogitsWithImageMatchTransformers) {
  auto m = LoadModel(testing::FixtureDir("tiny-vision"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto ref = OpenSafetensors(testing::FixtureDir("tiny-vision") + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  auto e = ImageEmbedder::Create(**m);
  ASSERT_TRUE(e.ok()) << e.status().message();
  ThreadPool pool(2);
  const TensorView& px8 = ref->tensors.at("pixels_u8");
  std::vector<float> px(px8.nbytes);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<float>(px8.data[i]) * (1.0f / 255.0f);
  auto soft = e->FromPixels(px.data(), &pool);
  ASSERT_TRUE(soft.ok()) << soft.status().message();

  const std::vector<int32_t> ids = testing::ToInts(ref->tensors.at("input_ids"));
  const int T = static_cast<int>(ids.size());
  auto ov = BuildImageOverrides(*e, ids.data(), T, {*soft});
  ASSERT_TRUE(ov.ok()) << ov.status().message();
  EXPECT_EQ(ov->rows.size(), static_cast<size_t>(e->tokens_per_image() + 2));  // + <end_of_image> + one hard id
  const EmbeddingOverrides view = ov->view();

  const TextConfig& c = (*m)->config.text;
  TextDecoder dec(c, (*m)->weights, &pool);
  Session s = dec.NewSession(T);
  std::vector<int> rows(T);
  for (int t = 0; t < T; ++t) rows[t] = t;
  std::vector<float> logits(static_cast<size_t>(T) * c.vocab_size);
  Status st = dec.Forward(s, ids.data(), T, rows, logits.data(), nullptr, &view);
  ASSERT_TRUE(st.ok()) << st.message();

  const std::vector<float> want = testing::ToFloats(ref->tensors.at("logits"));
  ASSERT_EQ(want.size(), logits.size());
  const testing::Agreement a = testing::Compare(want, logits.data());
  std::printf("  logits [%d, %d]: max|d| %.3e, max|logit| %.3f, cosine %.9f\n", T, c.vocab_size, a.max_abs,
              a.max_ref, a.cosine);
  EXPECT_LE(a.max_abs, 1e-4f * a.max_ref);
  for (int t = 0; t < T; ++t)
    EXPECT_EQ(testing::Argmax(logits.data() + t * c.vocab_size, c.vocab_size),
              testing::Argmax(want.data() + t * c.vocab_size, c.vocab_size)) << "position " << t;

  // The image matters: without the soft rows the logits after the image differ.
  auto wrong = BuildImageOverrides(*e, ids.data(), T, {});
  EXPECT_FALSE(wrong.ok());
}

}  // namespace
}  // namespace g3n
