// Turns a logit vector into the next token: repetition penalty, then temperature, top-k,
// top-p and min-p (transformers' order), or argmax when greedy.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "model/config.h"

namespace g3n {

struct SamplingParams {
  bool greedy = true;
  float temperature = 1.0f;
  int top_k = 0;          // 0 = off
  float top_p = 1.0f;     // 1 = off
  float min_p = 0.0f;     // 0 = off
  float repetition_penalty = 1.0f;
  uint64_t seed = 0;

  static SamplingParams FromGeneration(const GenerationConfig& g);
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);
  // `history` holds the ids the repetition penalty looks at (prompt + generated).
  int Sample(const float* logits, int vocab, const std::vector<int32_t>& history);

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
  std::vector<int> idx_;
};

}  // namespace g3n
