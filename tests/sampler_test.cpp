// Sampling rules: greedy, temperature, top-k, top-p, min-p, repetition penalty, seeding.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "runtime/sampler.h"

namespace g3n {
namespace {

std::map<int, int> Histogram(SamplingParams p, const std::vector<float>& logits, int draws,
                             const std::vector<int32_t>& history = {}) {
  Sampler s(p);
  std::map<int, int> h;
  for (int i = 0; i < draws; ++i) h[s.Sample(logits.data(), static_cast<int>(logits.size()), history)]++;
  return h;
}

const std::vector<float> kLogits{1.0f, 3.0f, 2.0f, 0.5f, 2.9f};

TEST(Sampler, GreedyPicksArgmax) {
  SamplingParams p;
  EXPECT_EQ(Histogram(p, kLogits, 5), (std::map<int, int>{{1, 5}}));
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplingParams p;
  p.greedy = false;
  p.top_k = 1;
  EXPECT_EQ(Histogram(p, kLogits, 50), (std::map<int, int>{{1, 50}}));
}

TEST(Sampler, TopKLimitsSupport) {
  SamplingParams p;
  p.greedy = false;
  p.top_k = 2;
  auto h = Histogram(p, kLogits, 2000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_GT(h[1], 0);
  EXPECT_GT(h[4], 0);
}

TEST(Sampler, TopPKeepsSmallestPrefixReachingP) {
  // Probabilities of {3.0, 2.9, 2.0, 1.0, 0.5}: ~0.385, 0.348, 0.142, 0.052, 0.032 (sum 1).
  SamplingParams p;
  p.greedy = false;
  p.top_p = 0.7f;  // 0.385 + 0.348 >= 0.7: two tokens
  auto h = Histogram(p, kLogits, 3000);
  EXPECT_EQ(h.size(), 2u);
  p.top_p = 0.8f;  // needs the third
  EXPECT_EQ(Histogram(p, kLogits, 3000).size(), 3u);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  SamplingParams p;
  p.greedy = false;
  p.min_p = 0.3f;  // keeps probs >= 0.3 * 0.385: tokens 1, 4, 2
  auto h = Histogram(p, kLogits, 3000);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.count(0), 0u);
}

TEST(Sampler, TemperatureSharpens) {
  SamplingParams p;
  p.greedy = false;
  p.temperature = 0.01f;  // 3.0 vs 2.9 -> odds e^10
  auto h = Histogram(p, kLogits, 500);
  EXPECT_GT(h[1], 495);
}

TEST(Sampler, FrequenciesFollowSoftmax) {
  SamplingParams p;
  p.greedy = false;
  const int n = 20000;
  auto h = Histogram(p, kLogits, n);
  double z = 0;
  for (float l : kLogits) z += std::exp(l);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(h[i] / double(n), std::exp(kLogits[i]) / z, 0.015) << i;
}

TEST(Sampler, RepetitionPenaltyDividesPositiveMultipliesNegative) {
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  // Token 1 (3.0) seen -> 1.5; token 4 (2.9) now wins greedily.
  EXPECT_EQ(Histogram(p, kLogits, 1, {1})[4], 1);
  std::vector<float> neg{-1.0f, -1.5f};
  // Token 0 seen -> -2.0; token 1 wins.
  EXPECT_EQ(Histogram(p, neg, 1, {0})[1], 1);
}

TEST(Sampler, SeedMakesRunsRepeatable) {
  SamplingParams p;
  p.greedy = false;
  p.seed = 42;
  Sampler a(p), b(p);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Sample(kLogits.data(), 5, {}), b.Sample(kLogits.data(), 5, {}));
}

TEST(Sampler, FromGenerationConfig) {
  GenerationConfig g;
  g.do_sample = true;
  g.top_k = 64;
  g.top_p = 0.95f;
  SamplingParams p = SamplingParams::FromGeneration(g);
  EXPECT_FALSE(p.greedy);
  EXPECT_EQ(p.top_k, 64);
  EXPECT_FLOAT_EQ(p.top_p, 0.95f);
  g.do_sample = false;
  EXPECT_TRUE(SamplingParams::FromGeneration(g).greedy);
}

}  // namespace
}  // namespace g3n
