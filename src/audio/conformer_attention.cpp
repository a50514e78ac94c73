#include "audio/conformer_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/ops.h"

namespace g3n {
namespace {

float Softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

}  // namespace

AttentionConstants MakeAttentionConstants(const AudioConfig& c, const AttentionWeights& w, ThreadPool* pool) {
  const int D = c.hidden_size, half = D / 2, L = c.max_past(), R = c.context_right, F = L + R + 1;
  AttentionConstants k;
  // Timing signal in float32, in the order transformers evaluates it: [sin(d * inv), cos(d * inv)].
  const float inc = static_cast<float>(std::log(1.0e4) / std::max(half - 1, 1));
  std::vector<float> inv(half), sig(static_cast<size_t>(F) * D);
  for (int i = 0; i < half; ++i) inv[i] = std::exp(static_cast<float>(i) * -inc);
  for (int r = 0; r < F; ++r) {
    const float d = static_cast<float>(L - r);
    for (int i = 0; i < half; ++i) {
      const float a = d * inv[i];
      sig[static_cast<size_t>(r) * D + i] = std::sin(a);
      sig[static_cast<size_t>(r) * D + half + i] = std::cos(a);
    }
  }
  k.pos_keys.assign(static_cast<size_t>(F) * D, 0.0f);
  MatMul(w.pos_proj, sig.data(), F, k.pos_keys.data(), D, pool);
  const int Hd = c.head_dim();
  const float base = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Hd))) / Softplus(0.0f);
  k.q_scale.resize(Hd);
  for (int d = 0; d < Hd; ++d) k.q_scale[d] = base * Softplus(w.per_dim_scale[d]);
  return k;
}

void LocalAttention(const AudioConfig& c, const AttentionWeights& w, const AttentionConstants& k, const float* h,
                    const uint8_t* valid, int64_t T, float* out, ThreadPool* pool) {
  const int D = c.hidden_size, N = c.num_heads, Hd = c.head_dim(), L = c.max_past(), R = c.context_right;
  const int W = c.chunk_size;
  std::vector<float> q(static_cast<size_t>(T) * D), key(static_cast<size_t>(T) * D), v(static_cast<size_t>(T) * D);
  MatMul(w.q, h, T, q.data(), D, pool);
  MatMul(w.k, h, T, key.data(), D, pool);
  MatMul(w.v, h, T, v.data(), D, pool);
  const float cap = c.logit_cap;
  ParallelFor(pool, T, [&](int64_t t0, int64_t t1) {
    std::vector<float> qs(Hd), p(static_cast<size_t>(L + R + 1));
    for (int64_t tq = t0; tq < t1; ++tq) {
      const int64_t lo = std::max<int64_t>(0, tq - L), hi = std::min<int64_t>(T - 1, tq + R);
      bool any = false;
      for (int64_t tk = lo; tk <= hi; ++tk) any = any || valid[tk] != 0;
      for (int n = 0; n < N; ++n) {
        float* o = out + tq * D + n * Hd;
        std::fill(o, o + Hd, 0.0f);
        if (!any) {
          // Every logit is masked to the float minimum, so HF's softmax is uniform over its
          // whole block context (W + L + R slots, zero vectors outside the clip). Only padded
          // frames get here, and nothing downstream of a valid frame reads them.
          const int64_t start = (tq / W) * W - L, ctx = W + L + R;
          for (int64_t tk = std::max<int64_t>(0, start); tk < std::min<int64_t>(T, start + ctx); ++tk)
            Axpy(1.0f / static_cast<float>(ctx), v.data() + tk * D + n * Hd, o, Hd);
          continue;
        }
        const float* qr = q.data() + tq * D + n * Hd;
        for (int d = 0; d < Hd; ++d) qs[d] = qr[d] * k.q_scale[d];
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t tk = lo; tk <= hi; ++tk) {
          if (!valid[tk]) continue;
          const float* pk = k.pos_keys.data() + static_cast<size_t>(L - (tq - tk)) * D + n * Hd;
          const float s = Dot(qs.data(), key.data() + tk * D + n * Hd, Hd) + Dot(qs.data(), pk, Hd);
          const float capped = cap * std::tanh(s / cap);
          p[tk - lo] = capped;
          mx = std::max(mx, capped);
        }
        float sum = 0.0f;
        for (int64_t tk = lo; tk <= hi; ++tk) {
          if (!valid[tk]) continue;
          p[tk - lo] = std::exp(p[tk - lo] - mx);
          sum += p[tk - lo];
        }
        for (int64_t tk = lo; tk <= hi; ++tk)
          if (valid[tk]) Axpy(p[tk - lo] / sum, v.data() + tk * D + n * Hd, o, Hd);
      }
    }
  }, 4);
}

}  // namespace g3n
