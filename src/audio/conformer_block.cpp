#include "audio/conformer_block.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ops.h"

namespace g3n {
namespace {

using Buf = std::vector<float>;

// transformers clips activations to ±gradient_clipping (1e10) before most norms; a no-op for
// sane inputs, kept so that extreme inputs behave the same.
void Clip(float* x, int64_t n, float limit) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::clamp(x[i], -limit, limit);
}

void NormRows(const float* x, const std::vector<float>& w, int64_t T, int64_t D, float eps, float* out,
              ThreadPool* pool) {
  ParallelFor(pool, T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) RmsNorm(x + t * D, w.data(), D, eps, out + t * D);
  }, 16);
}

float Silu(float x) { return x / (1.0f + std::exp(-x)); }

// The exp calls of the wide FFW activations are worth splitting across the pool.
void SiluInPlace(float* x, int64_t n, ThreadPool* pool) {
  ParallelFor(pool, n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) x[i] = Silu(x[i]);
  }, 1 << 14);
}

// x + residual_weight * post_norm(W2 silu(W1 pre_norm(x)))
void Ffw(const AudioConfig& c, const FfwWeights& w, float* x, int64_t T, ThreadPool* pool) {
  const int64_t D = c.hidden_size, F = w.up.rows;
  Buf h(x, x + T * D), up(static_cast<size_t>(T * F)), down(static_cast<size_t>(T * D));
  Clip(h.data(), T * D, c.gradient_clipping);
  NormRows(h.data(), w.pre_norm, T, D, c.rms_norm_eps, h.data(), pool);
  MatMul(w.up, h.data(), T, up.data(), F, pool);
  SiluInPlace(up.data(), T * F, pool);
  MatMul(w.down, up.data(), T, down.data(), D, pool);
  Clip(down.data(), T * D, c.gradient_clipping);
  NormRows(down.data(), w.post_norm, T, D, c.rms_norm_eps, down.data(), pool);
  for (int64_t i = 0; i < T * D; ++i) x[i] += c.residual_weight * down[i];
}

// x + post_norm(post(attention(pre_attn_norm(x)))): a plain residual, no half step.
void Attention(const AudioConfig& c, const AttentionWeights& w, const AttentionConstants& k, float* x,
               const uint8_t* valid, int64_t T, ThreadPool* pool) {
  const int64_t D = c.hidden_size;
  Buf h(x, x + T * D), att(static_cast<size_t>(T * D)), o(static_cast<size_t>(T * D));
  Clip(h.data(), T * D, c.gradient_clipping);
  NormRows(h.data(), w.pre_norm, T, D, c.rms_norm_eps, h.data(), pool);
  LocalAttention(c, w, k, h.data(), valid, T, att.data(), pool);
  MatMul(w.post, att.data(), T, o.data(), D, pool);
  Clip(o.data(), T * D, c.gradient_clipping);
  NormRows(o.data(), w.post_norm, T, D, c.rms_norm_eps, o.data(), pool);
  for (int64_t i = 0; i < T * D; ++i) x[i] += o[i];
}

// x + linear_end(silu(conv_norm(causal_depthwise_conv(glu(linear_start(pre_norm(x)))))))
void LightConv(const AudioConfig& c, const LconvWeights& w, float* x, int64_t T, ThreadPool* pool) {
  const int64_t D = c.hidden_size, K = c.conv_kernel_size;
  Buf h(static_cast<size_t>(T * D)), wide(static_cast<size_t>(T * 2 * D)), conv(static_cast<size_t>(T * D));
  NormRows(x, w.pre_norm, T, D, c.rms_norm_eps, h.data(), pool);
  MatMul(w.linear_start, h.data(), T, wide.data(), 2 * D, pool);
  for (int64_t t = 0; t < T; ++t) {  // GLU: first half is the value, second half the gate
    const float* r = wide.data() + t * 2 * D;
    for (int64_t d = 0; d < D; ++d) h[t * D + d] = r[d] / (1.0f + std::exp(-r[D + d]));
  }
  // Causal: output t reads inputs t-K+1 .. t (K-1 zero frames before the clip).
  ParallelFor(pool, T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* o = conv.data() + t * D;
      for (int64_t d = 0; d < D; ++d) {
        float s = 0.0f;
        for (int64_t j = 0; j < K; ++j) {
          const int64_t ti = t - (K - 1) + j;
          if (ti >= 0) s += w.depthwise[d * K + j] * h[ti * D + d];
        }
        o[d] = s;
      }
    }
  }, 16);
  Clip(conv.data(), T * D, c.gradient_clipping);
  NormRows(conv.data(), w.conv_norm, T, D, c.rms_norm_eps, conv.data(), pool);
  SiluInPlace(conv.data(), T * D, pool);
  MatMul(w.linear_end, conv.data(), T, h.data(), D, pool);
  for (int64_t i = 0; i < T * D; ++i) x[i] += h[i];
}

}  // namespace

void RunConformerBlock(const AudioConfig& c, const ConformerWeights& w, const AttentionConstants& k, float* x,
                       const uint8_t* valid, int64_t T, ThreadPool* pool) {
  const int64_t D = c.hidden_size;
  Ffw(c, w.ffw_start, x, T, pool);
  Attention(c, w.attn, k, x, valid, T, pool);
  // The light conv looks back in time: padded frames must not leak into it.
  for (int64_t t = 0; t < T; ++t)
    if (!valid[t]) std::fill(x + t * D, x + (t + 1) * D, 0.0f);
  LightConv(c, w.lconv, x, T, pool);
  Ffw(c, w.ffw_end, x, T, pool);
  Clip(x, T * D, c.gradient_clipping);
  NormRows(x, w.norm, T, D, c.rms_norm_eps, x, pool);
}

}  // namespace g3n
