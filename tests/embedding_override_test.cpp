// Multimodal rows enter the decoder as embedding overrides: an override equal to the token
// table's own (scaled) row changes nothing, and a different one changes that row's logits and
// later rows' but never earlier rows' (causal attention).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "io/safetensors.h"
#include "kernels/ops.h"
#include "model/model.h"
#include "model/text_decoder.h"
#include "test_util.h"

namespace g3n {
namespace {

std::vector<float> AllLogits(const TextDecoder& dec, const std::vector<int32_t>& ids, const EmbeddingOverrides* o) {
  const int T = static_cast<int>(ids.size()), V = dec.config().vocab_size;
  Session s = dec.NewSession(T);
  std::vector<int> rows(T);
  for (int t = 0; t < T; ++t) rows[t] = t;
  std::vector<float> logits(static_cast<size_t>(T) * V);
  Status st = dec.Forward(s, ids.data(), T, rows, logits.data(), nullptr, o);
  EXPECT_TRUE(st.ok()) << st.message();
  return logits;
}

TEST(EmbeddingOverrides, ReplaceRowsCausally) {
  auto m = LoadModel(testing::FixtureDir("tiny-nested"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  const TextConfig& c = (*m)->config.text;
  ThreadPool pool(2);
  TextDecoder dec(c, (*m)->weights, &pool);
  const std::vector<int32_t> ids{2, 105, 17, 42, 99, 7, 106, 13};
  const int V = c.vocab_size, H = c.hidden_size;
  const std::vector<float> plain = AllLogits(dec, ids, nullptr);

  // Rows 3 and 5 overridden with the table's own rows * sqrt(H): identical logits.
  std::vector<float> same(2 * H);
  for (int j = 0; j < 2; ++j) {
    RowToF32((*m)->weights.embed.dtype, (*m)->weights.embed.row(ids[j == 0 ? 3 : 5]), H, same.data() + j * H);
    for (int i = 0; i < H; ++i) same[j * H + i] *= std::sqrt(static_cast<float>(H));
  }
  EmbeddingOverrides o{{3, 5}, same.data()};
  const std::vector<float> again = AllLogits(dec, ids, &o);
  EXPECT_LE(testing::MaxAbsDiff(plain.data(), again.data(), plain.size()), 1e-5f * testing::MaxAbs(plain.data(), plain.size()));

  // A unit-RMS vector at row 4: rows 0-3 unchanged, row 4 and later changed.
  std::vector<float> other(H);
  for (int i = 0; i < H; ++i) other[i] = (i % 2 == 0) ? 1.0f : -1.0f;
  EmbeddingOverrides o2{{4}, other.data()};
  const std::vector<float> changed = AllLogits(dec, ids, &o2);
  for (int t = 0; t < static_cast<int>(ids.size()); ++t) {
    const float d = testing::MaxAbsDiff(plain.data() + t * V, changed.data() + t * V, V);
    if (t < 4) EXPECT_EQ(d, 0.0f) << "row " << t;
    else EXPECT_GT(d, 1e-4f) << "row " << t;
  }

  // Bad rows are refused.
  Session s = dec.NewSession(8);
  EmbeddingOverrides bad{{9}, other.data()};
  std::vector<float> logits(V);
  EXPECT_FALSE(dec.Forward(s, ids.data(), 8, {7}, logits.data(), nullptr, &bad).ok());
}

}  // namespace
}  // namespace g3n
