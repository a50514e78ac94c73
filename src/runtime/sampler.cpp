#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace g3n {

SamplingParams SamplingParams::FromGeneration(const GenerationConfig& g) {
  SamplingParams p;
  p.greedy = !g.do_sample || g.temperature <= 0.0f;
  p.temperature = g.temperature;
  p.top_k = g.top_k;
  p.top_p = g.top_p;
  p.min_p = g.min_p;
  p.repetition_penalty = g.repetition_penalty;
  return p;
}

Sampler::Sampler(const SamplingParams& p) : p_(p), rng_(p.seed) {}

int Sampler::Sample(const float* logits, int vocab, const std::vector<int32_t>& history) {
  work_.assign(logits, logits + vocab);
  if (p_.repetition_penalty != 1.0f) {
    for (int32_t id : history) {
      if (id < 0 || id >= vocab) continue;
      const float x = logits[id];  // from the original so repeated ids are penalised once
      work_[id] = x < 0 ? x * p_.repetition_penalty : x / p_.repetition_penalty;
    }
  }
  if (p_.greedy) return static_cast<int>(std::max_element(work_.begin(), work_.end()) - work_.begin());

  // Candidates sorted by logit, best first; top-k keeps the first k.
  idx_.resize(vocab);
  for (int i = 0; i < vocab; ++i) idx_[i] = i;
  int n = vocab;
  const auto by_logit = [&](int a, int b) { return work_[a] > work_[b] || (work_[a] == work_[b] && a < b); };
  if (p_.top_k > 0 && p_.top_k < vocab) {
    std::partial_sort(idx_.begin(), idx_.begin() + p_.top_k, idx_.end(), by_logit);
    n = p_.top_k;
  } else {
    std::sort(idx_.begin(), idx_.end(), by_logit);
  }
  // Softmax at the temperature over the survivors.
  std::vector<double> prob(n);
  const double inv_t = 1.0 / std::max(p_.temperature, 1e-6f);
  const double mx = work_[idx_[0]] * inv_t;
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += prob[i] = std::exp(work_[idx_[i]] * inv_t - mx);
  for (double& q : prob) q /= sum;
  // top-p: the smallest prefix whose mass reaches p (at least one token).
  if (p_.top_p < 1.0f) {
    double cum = 0.0;
    int keep = 0;
    while (keep < n && (keep == 0 || cum < p_.top_p)) cum += prob[keep++];
    n = keep;
  }
  // min-p: drop tokens below min_p times the best probability.
  if (p_.min_p > 0.0f) {
    const double floor = p_.min_p * prob[0];
    int keep = 1;
    while (keep < n && prob[keep] >= floor) ++keep;
    n = keep;
  }
  double total = 0.0;
  for (int i = 0; i < n; ++i) total += prob[i];
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng_);
  for (int i = 0; i < n; ++i) {
    r -= prob[i];
    if (r <= 0.0) return idx_[i];
  }
  return idx_[n - 1];
}

}  // namespace g3n
