// The text decoder against transformers' float32 outputs on tiny random Gemma 3n models
// (tools/make_fixtures.py): every stage, prefill, step-by-step decode, chunking, greedy generation.
#include <gtest/gtest.h>

#include "model/model.h"
#include "model/text_decoder.h"
#include "runtime/generate.h"
#include "test_util.h"

namespace g3n {
namespace {

using testing::ExpectClose;

class DecoderFixture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto m = LoadModel(testing::FixtureDir(GetParam()));
    ASSERT_TRUE(m.ok()) << m.status().message();
    model_ = std::move(*m);
    auto r = OpenSafetensors(testing::FixtureDir(GetParam()) + "/reference.safetensors");
    ASSERT_TRUE(r.ok()) << r.status().message();
    ref_ = std::move(*r);
    ids_ = testing::ToInts(ref_.tensors.at("input_ids"));
    pool_ = std::make_unique<ThreadPool>(2);
    decoder_ = std::make_unique<TextDecoder>(model_->config.text, model_->weights, pool_.get());
  }
  std::vector<float> Ref(const std::string& name) { return testing::ToFloats(ref_.tensors.at(name)); }
  int V() const { return model_->config.text.vocab_size; }
  int T() const { return static_cast<int>(ids_.size()); }

  // Logits per position, compared with reference [T, V] row by row: tolerance and argmax.
  void CompareLogits(const std::vector<float>& expected, const std::vector<float>& actual, const std::string& what) {
    ExpectClose(expected, actual.data(), 1e-4f, what);
    for (int t = 0; t < T(); ++t)
      EXPECT_EQ(testing::Argmax(expected.data() + t * V(), V()), testing::Argmax(actual.data() + t * V(), V()))
          << what << " argmax at position " << t;
  }

  std::unique_ptr<Model> model_;
  SafetensorsFile ref_;
  std::vector<int32_t> ids_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<TextDecoder> decoder_;
};

TEST_P(DecoderFixture, PrefillMatchesEveryStage) {
  Session s = decoder_->NewSession(T());
  std::vector<int> rows(T());
  for (int i = 0; i < T(); ++i) rows[i] = i;
  std::vector<float> logits(static_cast<size_t>(T()) * V());
  ForwardTrace trace;
  ASSERT_TRUE(decoder_->Forward(s, ids_.data(), T(), rows, logits.data(), &trace).ok());
  ExpectClose(Ref("embeddings"), trace.embeddings.data(), 1e-6f, "embeddings");
  ExpectClose(Ref("per_layer_inputs"), trace.per_layer_inputs.data(), 1e-5f, "per_layer_inputs");
  for (int l = 0; l < model_->config.text.num_layers; ++l)
    ExpectClose(Ref("layer_out." + std::to_string(l)), trace.layer_out[l].data(), 1e-4f,
                "layer_out." + std::to_string(l));
  ExpectClose(Ref("final_hidden"), trace.final_hidden.data(), 1e-4f, "final_hidden");
  CompareLogits(Ref("prefill_logits"), logits, "prefill logits");
}

TEST_P(DecoderFixture, StepByStepDecodeMatches) {
  Session s = decoder_->NewSession(T());
  std::vector<float> logits(static_cast<size_t>(T()) * V());
  for (int t = 0; t < T(); ++t)
    ASSERT_TRUE(decoder_->Forward(s, &ids_[t], 1, {0}, logits.data() + static_cast<size_t>(t) * V()).ok());
  CompareLogits(Ref("decode_logits"), logits, "decode logits");
}

// Any chunking of the prompt leaves the same cache and gives the same logits at chunk ends;
// KV-consumer layers run only on the rows whose logits are asked for.
TEST_P(DecoderFixture, ChunkedPrefillMatchesAcrossChunkSizes) {
  const std::vector<float> expected = Ref("prefill_logits");
  Session whole = decoder_->NewSession(T());
  std::vector<float> last(V());
  ASSERT_TRUE(decoder_->Forward(whole, ids_.data(), T(), {T() - 1}, last.data()).ok());
  for (int chunk : {1, 5, 16, 33}) {
    Session s = decoder_->NewSession(T());
    std::vector<float> logits(V());
    for (int b = 0; b < T(); b += chunk) {
      const int n = std::min(chunk, T() - b);
      ASSERT_TRUE(decoder_->Forward(s, ids_.data() + b, n, {n - 1}, logits.data()).ok());
      const std::vector<float> want(expected.begin() + static_cast<size_t>(b + n - 1) * V(),
                                    expected.begin() + static_cast<size_t>(b + n) * V());
      ExpectClose(want, logits.data(), 1e-4f, "chunk " + std::to_string(chunk) + " row " + std::to_string(b + n - 1));
    }
    EXPECT_EQ(s.pos, whole.pos);
    const int kv_dim = model_->config.text.num_kv_heads * model_->config.text.head_dim;
    std::vector<float> a(kv_dim), b(kv_dim);
    // Whole-prompt prefill takes the blocked GEMM (T >= kGemmMinRows) and small chunks the
    // row-dot path: the same fp32 sums in another order, ~1e-5 apart on this model.
    constexpr float kCacheTol = 3e-5f;
    for (size_t l = 0; l < s.k_cache.size(); ++l) {
      ASSERT_EQ(s.k_cache[l] == nullptr, model_->config.text.is_kv_consumer(static_cast<int>(l)));
      if (!s.k_cache[l]) continue;
      for (int p = 0; p < T(); ++p) {
        whole.k_cache[l]->ReadRow(p, a.data());
        s.k_cache[l]->ReadRow(p, b.data());
        ASSERT_LE(testing::MaxAbsDiff(a.data(), b.data(), kv_dim), kCacheTol) << "k layer " << l << " pos " << p;
        whole.v_cache[l]->ReadRow(p, a.data());
        s.v_cache[l]->ReadRow(p, b.data());
        ASSERT_LE(testing::MaxAbsDiff(a.data(), b.data(), kv_dim), kCacheTol) << "v layer " << l << " pos " << p;
      }
    }
  }
}

// Sliding layers keep only window + max_chunk - 1 positions; results must not change.
TEST_P(DecoderFixture, RingBufferCacheMatchesReference) {
  const std::vector<float> expected = Ref("prefill_logits");
  const int chunk = 5;
  Session s = decoder_->NewSession({T(), chunk, KvType::F32});
  std::vector<float> logits(V());
  for (int b = 0; b < T(); b += chunk) {
    const int n = std::min(chunk, T() - b);
    ASSERT_TRUE(decoder_->Forward(s, ids_.data() + b, n, {n - 1}, logits.data()).ok());
    const std::vector<float> want(expected.begin() + static_cast<size_t>(b + n - 1) * V(),
                                  expected.begin() + static_cast<size_t>(b + n) * V());
    ExpectClose(want, logits.data(), 1e-4f, "ring cache, row " + std::to_string(b + n - 1));
  }
  const TextConfig& c = model_->config.text;
  bool any_ring = false;
  for (int l = 0; l < c.num_layers; ++l)
    if (s.k_cache[l]) any_ring |= s.k_cache[l]->ring();
  EXPECT_EQ(any_ring, c.sliding_window + chunk - 1 < T());
  EXPECT_FALSE(decoder_->Forward(s, ids_.data(), chunk + 1, {}, nullptr).ok()) << "chunk above max_chunk";
}

// Narrow KV caches: logit error against the fp32 reference over step-by-step decode.
TEST_P(DecoderFixture, CompactKvCacheAccuracy) {
  const std::vector<float> expected = Ref("decode_logits");
  const float scale = testing::MaxAbs(expected.data(), expected.size());
  for (auto [type, bound] : {std::pair{KvType::F16, 2e-3f}, {KvType::BF16, 2e-2f}, {KvType::Q8, 3e-2f}}) {
    Session s = decoder_->NewSession({T(), 16, type});
    std::vector<float> logits(static_cast<size_t>(T()) * V());
    for (int t = 0; t < T(); ++t)
      ASSERT_TRUE(decoder_->Forward(s, &ids_[t], 1, {0}, logits.data() + static_cast<size_t>(t) * V()).ok());
    const float err = testing::MaxAbsDiff(expected.data(), logits.data(), expected.size()) / scale;
    std::printf("[ kv %-4s ] %s: max|dlogit| / max|logit| = %.2e\n", KvTypeName(type), GetParam().c_str(), err);
    EXPECT_LE(err, bound) << KvTypeName(type);
  }
}

TEST_P(DecoderFixture, GreedyGenerationMatchesReference) {
  const std::vector<int32_t> want = testing::ToInts(ref_.tensors.at("greedy_ids"));
  const std::vector<int32_t> prompt(ids_.begin(), ids_.begin() + 24);
  Session s = decoder_->NewSession(64);
  GenerateOptions opt;
  opt.max_new_tokens = static_cast<int>(want.size());
  opt.prefill_chunk = 7;
  std::vector<int32_t> got;
  ASSERT_TRUE(Generate(*decoder_, s, prompt, opt, nullptr, &got, nullptr).ok());
  EXPECT_EQ(got, want);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DecoderFixture, ::testing::Values("tiny-nested", "tiny-sharded", "tiny-f32"));

}  // namespace
}  // namespace g3n
