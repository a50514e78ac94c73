// Past 32K positions: the text decoder against transformers' float32 logits on a tiny random
// Gemma 3n fed 33000 tokens (tests/fixtures/tiny-long, tools/make_long_fixture.py). Logits at the
// first 32 positions, around position 32768 and at the last 32 positions show that positions,
// RoPE (bases 1e4 / 1e6) and the sliding window (64) stay exact at the far end of the context,
// with sliding-window layers in ring buffers and chunked prefill (512 tokens per Forward).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "model/model.h"
#include "model/text_decoder.h"
#include "test_util.h"

namespace g3n {
namespace {

constexpr int kChunk = 512;

class LongContext : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = LoadModel(testing::FixtureDir("tiny-long"));
    ASSERT_TRUE(m.ok()) << m.status().message();
    model_ = std::move(*m);
    auto r = OpenSafetensors(testing::FixtureDir("tiny-long") + "/reference.safetensors");
    ASSERT_TRUE(r.ok()) << r.status().message();
    ref_ = std::move(*r);
    ids_ = testing::ToInts(ref_.tensors.at("input_ids"));
    positions_ = testing::ToInts(ref_.tensors.at("logit_positions"));
    expected_ = testing::ToFloats(ref_.tensors.at("logits"));
    ASSERT_EQ(expected_.size(), positions_.size() * static_cast<size_t>(V()));
    ASSERT_GT(T(), 32768);
    ASSERT_EQ(positions_.back(), T() - 1);
    pool_ = std::make_unique<ThreadPool>(2);
    decoder_ = std::make_unique<TextDecoder>(model_->config.text, model_->weights, pool_.get());
  }
  int V() const { return model_->config.text.vocab_size; }
  int T() const { return static_cast<int>(ids_.size()); }

  // Feeds all ids in chunks of kChunk; returns the logits at positions_, in order.
  std::vector<float> Feed(Session& s, double* seconds) {
    std::vector<float> logits(positions_.size() * static_cast<size_t>(V()));
    size_t next = 0;  // index into positions_
    const auto t0 = std::chrono::steady_clock::now();
    for (int b = 0; b < T(); b += kChunk) {
      const int n = std::min(kChunk, T() - b);
      std::vector<int> rows;
      float* out = logits.data() + next * V();
      while (next < positions_.size() && positions_[next] < b + n) rows.push_back(positions_[next++] - b);
      Status st = decoder_->Forward(s, ids_.data() + b, n, rows, rows.empty() ? nullptr : out);
      EXPECT_TRUE(st.ok()) << "chunk at " << b << ": " << st.message();
      if (!st.ok()) break;
    }
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(next, positions_.size());
    EXPECT_EQ(s.pos, T());
    return logits;
  }

  // max |actual - expected| over the rows whose positions lie in [lo, hi).
  float MaxDiff(const std::vector<float>& actual, int lo, int hi) const {
    float m = 0.0f;
    for (size_t i = 0; i < positions_.size(); ++i)
      if (positions_[i] >= lo && positions_[i] < hi)
        m = std::max(m, testing::MaxAbsDiff(expected_.data() + i * V(), actual.data() + i * V(), V()));
    return m;
  }

  void Report(const char* what, const std::vector<float>& actual, double seconds) const {
    const float scale = testing::MaxAbs(expected_.data(), expected_.size());
    std::printf("[ long %-3s ] T=%d in chunks of %d: %.2f s; max|dlogit| / max|logit| (%.3f): "
                "first 32 %.2e, around 32768 %.2e, last 32 %.2e\n",
                what, T(), kChunk, seconds, scale, MaxDiff(actual, 0, 32) / scale,
                MaxDiff(actual, 32, T() - 32) / scale, MaxDiff(actual, T() - 32, T()) / scale);
  }

  std::unique_ptr<Model> model_;
  SafetensorsFile ref_;
  std::vector<int32_t> ids_, positions_;
  std::vector<float> expected_;  // [N, V]
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<TextDecoder> decoder_;
};

TEST_F(LongContext, LogitsPast32KMatchReference) {
  Session s = decoder_->NewSession({T(), kChunk, KvType::F32});
  double seconds = 0;
  const std::vector<float> logits = Feed(s, &seconds);
  Report("f32", logits, seconds);
  testing::ExpectClose(expected_, logits.data(), 1e-4f, "logits");
  for (size_t i = 0; i < positions_.size(); ++i)
    EXPECT_EQ(testing::Argmax(expected_.data() + i * V(), V()), testing::Argmax(logits.data() + i * V(), V()))
        << "argmax at position " << positions_[i];
}

// F16 KV cache over the same feed: error reported with a loose bound; the cache holds only what
// the context needs (sliding layers in rings, KV consumers nothing, global layers T positions).
TEST_F(LongContext, CompactF16CacheStaysLean) {
  Session s = decoder_->NewSession({T(), kChunk, KvType::F16});
  double seconds = 0;
  const std::vector<float> logits = Feed(s, &seconds);
  Report("f16", logits, seconds);
  testing::ExpectClose(expected_, logits.data(), 1e-2f, "f16 logits");

  const TextConfig& c = model_->config.text;
  const size_t row_bytes = static_cast<size_t>(c.num_kv_heads) * c.head_dim * 2;  // F16
  const auto blocks = [](size_t rows) { return (rows + 63) / 64 * 64; };          // KvStore allocates 64-row blocks
  size_t bound = 0;
  int rings = 0;
  for (int l = 0; l < c.num_layers; ++l) {
    ASSERT_EQ(s.k_cache[l] == nullptr, c.is_kv_consumer(l)) << "layer " << l;
    ASSERT_EQ(s.v_cache[l] == nullptr, c.is_kv_consumer(l)) << "layer " << l;
    if (c.is_kv_consumer(l)) continue;
    const bool sliding = c.layer_types[l] == LayerType::Sliding;
    EXPECT_EQ(s.k_cache[l]->ring(), sliding) << "layer " << l;
    EXPECT_EQ(s.v_cache[l]->ring(), sliding) << "layer " << l;
    if (sliding) {
      EXPECT_EQ(s.k_cache[l]->slots(), c.sliding_window + kChunk - 1) << "layer " << l;
      ++rings;
    }
    bound += 2 * blocks(sliding ? c.sliding_window + kChunk - 1 : T()) * row_bytes;
  }
  EXPECT_GE(rings, 2);
  const size_t naive = 2 * static_cast<size_t>(T()) * c.num_layers * row_bytes;  // every layer, every position
  std::printf("[ long f16 ] cache %zu bytes (bound %zu); every layer x capacity would be %zu\n", s.cache_bytes(),
              bound, naive);
  EXPECT_LE(s.cache_bytes(), bound);
  EXPECT_LT(s.cache_bytes() * 4, naive);
}

}  // namespace
}  // namespace g3n
