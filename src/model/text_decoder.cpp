#include "model/text_decoder.h"

#include <algorithm>
#include <cmath>

#include "kernels/mixed_ops.h"
#include "kernels/ops.h"

namespace g3n {
namespace {

// Exactly n (resize alone may double the capacity): scratch is sized by the largest chunk.
template <class T>
T* Grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) {
    v.reserve(n);
    v.resize(n);
  }
  return v.data();
}

}  // namespace

size_t Scratch::bytes() const {
  size_t n = (pos.capacity() + ple_ids.capacity()) * 4;
  for (const auto* v : {&x0, &ple_tok, &ple_ctx, &streams, &pred, &xn, &lau_low, &lau, &q, &k, &v, &attn, &att, &h2,
                        &h3, &ffn_in, &gate, &up, &ffn_out, &router_in, &router_out, &pl_gate, &pl_out, &tmp, &collapse})
    n += v->capacity() * sizeof(float);
  return n;
}

size_t Session::cache_bytes() const {
  size_t n = 0;
  for (const auto& k : k_cache) n += k ? k->bytes() : 0;
  for (const auto& v : v_cache) n += v ? v->bytes() : 0;
  return n;
}

TextDecoder::TextDecoder(const TextConfig& config, const TextWeights& weights, ThreadPool* pool,
                         size_t ple_cache_bytes)
    : c_(config), w_(weights), pool_(pool),
      ple_rows_(std::make_unique<RowSource>(weights.ple_file, weights.ple, ple_cache_bytes)),
      sparse_ffn_(std::make_unique<SparseFfn>(config, weights, pool)) {
  if (!w_.ple_slices.empty()) {  // a sub-model reads only its kept layers' PLE slices
    std::vector<std::pair<int64_t, int64_t>> runs;
    const int64_t P = c_.per_layer_dim;
    for (int s : w_.ple_slices) {
      if (!runs.empty() && runs.back().second == s * P) runs.back().second += P;
      else runs.emplace_back(s * P, (s + 1) * P);
    }
    ple_rows_->SetColumnRuns(std::move(runs));
  }
  // RoPE inverse frequencies as transformers computes them: fp32 pow, then fp32 reciprocal.
  const int half = c_.head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const float e = static_cast<float>(2 * i) / static_cast<float>(c_.head_dim);
    inv_freq_local_.push_back(1.0f / std::pow(c_.rope_theta_local, e));
    inv_freq_global_.push_back(1.0f / std::pow(c_.rope_theta_global, e));
  }
}

Session TextDecoder::NewSession(const SessionOptions& opt) const {
  Session s;
  s.capacity = opt.capacity;
  s.max_chunk = std::max(1, std::min(opt.max_chunk, opt.capacity));
  s.k_cache.resize(c_.num_layers);
  s.v_cache.resize(c_.num_layers);
  // The first query of a chunk looks back window-1 positions while the chunk writes max_chunk.
  const int ring = c_.sliding_window + s.max_chunk - 1;
  for (int l = 0; l < c_.num_layers; ++l) {
    if (c_.is_kv_consumer(l)) continue;
    const bool sliding = c_.layer_types[l] == LayerType::Sliding && ring < opt.capacity;
    const int slots = sliding ? ring : opt.capacity;
    s.k_cache[l] = std::make_unique<KvStore>(opt.kv_type, c_.num_kv_heads, c_.head_dim, slots, sliding);
    s.v_cache[l] = std::make_unique<KvStore>(opt.kv_type, c_.num_kv_heads, c_.head_dim, slots, sliding);
  }
  return s;
}

void TextDecoder::Embed(Scratch& sc, const int32_t* tokens, int T, const EmbeddingOverrides* overrides) const {
  const int64_t H = c_.hidden_size;
  const float scale = static_cast<float>(std::sqrt(static_cast<double>(H)));
  float* x0 = Grow(sc.x0, T * H);
  for (int t = 0; t < T; ++t) {
    RowToF32(w_.embed.dtype, w_.embed.row(tokens[t]), H, x0 + t * H);
    for (int64_t i = 0; i < H; ++i) x0[t * H + i] *= scale;
  }
  if (overrides == nullptr) return;
  for (size_t j = 0; j < overrides->rows.size(); ++j)
    std::copy(overrides->data + j * H, overrides->data + (j + 1) * H, x0 + overrides->rows[j] * H);
}

// u[t, l, :] = (RMSNorm(Wplm x0 / sqrt(H))_l + PLE[t]_l * sqrt(P)) / sqrt(2)   (spec 3.3)
// The PLE rows were prefetched when the ids arrived; the projection runs while they load.
void TextDecoder::PerLayerInputs(Scratch& sc, const int32_t* tokens, int T) const {
  const int64_t H = c_.hidden_size, P = c_.per_layer_dim, LP = c_.num_layers * P;
  float* tok = Grow(sc.ple_tok, T * LP);
  float* ctx = Grow(sc.ple_ctx, T * LP);
  if (w_.ple_slices.empty()) {
    MatMul(w_.ple_projection, sc.x0.data(), T, ctx, LP, pool_);
  } else {
    for (int l = 0; l < c_.num_layers; ++l) {
      WeightMatrix rows = w_.ple_projection;
      rows.data = w_.ple_projection.row(static_cast<int64_t>(w_.ple_slices[l]) * P);
      rows.rows = P;
      MatMul(rows, sc.x0.data(), T, ctx + l * P, LP, pool_);
    }
  }
  ple_rows_->Gather(sc.ple_ids.data(), T, tok);
  const float tok_scale = static_cast<float>(std::sqrt(static_cast<double>(P)));
  const float proj_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(H)));
  const float combine = 1.0f / std::sqrt(2.0f);
  for (int64_t r = 0; r < T * c_.num_layers; ++r) {
    float* q = ctx + r * P;
    for (int64_t i = 0; i < P; ++i) q[i] *= proj_scale;
    RmsNorm(q, w_.ple_projection_norm.data(), P, c_.rms_norm_eps, q);
    float* u = tok + r * P;
    for (int64_t i = 0; i < P; ++i) u[i] = (q[i] + u[i] * tok_scale) * combine;
  }
}

// Stream 0 is x0; streams 1.. are projections of x0 rescaled to x0's RMS (spec 3.4).
void TextDecoder::ExpandStreams(Scratch& sc, int T) const {
  const int64_t H = c_.hidden_size, A = c_.altup_num_inputs;
  float* S = Grow(sc.streams, A * T * H);
  std::copy(sc.x0.begin(), sc.x0.begin() + T * H, S);
  for (int64_t k = 1; k < A; ++k) {
    float* y = S + k * T * H;
    MatMul(w_.altup_proj[k - 1], sc.x0.data(), T, y, H, pool_);
    for (int t = 0; t < T; ++t) {
      const float target = std::sqrt(MeanSquare(sc.x0.data() + t * H, H));
      const float mag = std::sqrt(std::max(MeanSquare(y + t * H, H), 1e-5f));
      for (int64_t i = 0; i < H; ++i) y[t * H + i] = y[t * H + i] * target / mag;
    }
  }
}

// tanh(Wr · (RMSNorm(x) / H)), one A-vector per row.
void TextDecoder::Route(const LayerWeights& lw, const float* x, int n, Scratch& sc, float* out) const {
  const int64_t H = c_.hidden_size, A = c_.altup_num_inputs;
  float* in = Grow(sc.router_in, n * H);
  const float scale = 1.0f / static_cast<float>(H);
  for (int t = 0; t < n; ++t) {
    RmsNorm(x + t * H, lw.altup_router_norm.data(), H, c_.rms_norm_eps, in + t * H);
    for (int64_t i = 0; i < H; ++i) in[t * H + i] *= scale;
  }
  MatMul(lw.altup_router, in, n, out, A, pool_);
  for (int64_t i = 0; i < n * A; ++i) out[i] = std::tanh(out[i]);
}

void TextDecoder::Attention(int l, Session& s, int n) const {
  Scratch& sc = s.scratch;
  const LayerWeights& lw = w_.layers[l];
  const int64_t Dh = c_.head_dim, Nq = c_.num_heads, Nkv = c_.num_kv_heads, H = c_.hidden_size;
  const int64_t kv_dim = Nkv * Dh, group = Nq / Nkv;
  const std::vector<float>& inv_freq = c_.layer_types[l] == LayerType::Full ? inv_freq_global_ : inv_freq_local_;
  const int64_t half = Dh / 2;

  float* q = Grow(sc.q, n * Nq * Dh);
  MatMul(lw.q, sc.xn.data(), n, q, Nq * Dh, pool_);
  const bool owner = !c_.is_kv_consumer(l);
  float* k = nullptr;
  float* v = nullptr;
  if (owner) {
    k = Grow(sc.k, n * kv_dim);
    v = Grow(sc.v, n * kv_dim);
    MatMul(lw.k, sc.xn.data(), n, k, kv_dim, pool_);
    MatMul(lw.v, sc.xn.data(), n, v, kv_dim, pool_);
  }
  std::vector<float> cs(static_cast<size_t>(Dh));  // cos | sin of one position
  for (int t = 0; t < n; ++t) {
    const float p = static_cast<float>(sc.pos[t]);
    for (int64_t i = 0; i < half; ++i) {
      const float ang = inv_freq[i] * p;
      cs[i] = static_cast<float>(std::cos(static_cast<double>(ang)));
      cs[half + i] = static_cast<float>(std::sin(static_cast<double>(ang)));
    }
    for (int64_t h = 0; h < Nq; ++h) {
      float* qh = q + (t * Nq + h) * Dh;
      RmsNorm(qh, lw.q_norm.data(), Dh, c_.rms_norm_eps, qh);
      RopeRotate(qh, cs.data(), cs.data() + half, Dh);
    }
    if (!owner) continue;
    for (int64_t h = 0; h < Nkv; ++h) {
      float* kh = k + (t * Nkv + h) * Dh;
      float* vh = v + (t * Nkv + h) * Dh;
      RmsNorm(kh, lw.k_norm.data(), Dh, c_.rms_norm_eps, kh);
      RopeRotate(kh, cs.data(), cs.data() + half, Dh);
      RmsNorm(vh, nullptr, Dh, c_.rms_norm_eps, vh);
    }
    s.k_cache[l]->Write(sc.pos[t], k + t * kv_dim);
    s.v_cache[l]->Write(sc.pos[t], v + t * kv_dim);
  }

  // Every query row attends over the source layer's cache, which already holds this chunk.
  const int src = c_.kv_source[l];
  const KvStore& K = *s.k_cache[src];
  const KvStore& V = *s.v_cache[src];
  const bool sliding = c_.layer_types[l] == LayerType::Sliding;
  float* out = Grow(sc.attn, n * Nq * Dh);
  ParallelFor(pool_, n * Nq, [&](int64_t b, int64_t e) {
    thread_local std::vector<float> scores;
    for (int64_t th = b; th < e; ++th) {
      const int64_t t = th / Nq, h = th % Nq;
      const int g = static_cast<int>(h / group);
      const int p = sc.pos[t];
      const int lo = sliding ? std::max(0, p - c_.sliding_window + 1) : 0;
      if (scores.size() < static_cast<size_t>(p - lo + 1)) scores.resize(p - lo + 1);
      const float* qh = q + (t * Nq + h) * Dh;
      const int nk = p - lo + 1;
      float* z = scores.data();
      K.Scores(g, qh, lo, p, z);
      Softmax(z, nk);
      float* oh = out + (t * Nq + h) * Dh;
      std::fill(oh, oh + Dh, 0.0f);
      V.Mix(g, z, lo, p, oh);
    }
  }, 4);
  MatMul(lw.o, out, n, Grow(sc.att, n * H), H, pool_);
}

// GeGLU with optional gaussian top-k sparsity on the gate (spec 3.8).
void TextDecoder::Mlp(int l, Scratch& sc, int n) const {
  const LayerWeights& lw = w_.layers[l];
  const int64_t F = c_.intermediate_size[l], H = c_.hidden_size;
  float* gate = Grow(sc.gate, n * F);
  float* up = Grow(sc.up, n * F);
  MatMul(lw.gate, sc.ffn_in.data(), n, gate, F, pool_);
  const float sparsity = c_.activation_sparsity[l];
  // transformers takes the quantile of the fp32 target, in fp32.
  const float mult = sparsity > 0.0f ? static_cast<float>(NormalQuantile(static_cast<double>(sparsity))) : 0.0f;
  if (sparsity > 0.0f) {
    for (int t = 0; t < n; ++t) GaussianTopK(gate + t * F, F, mult);
    if (n == 1) {  // one token: read only the surviving units' weights
      sparse_ffn_->Run(l, sc.ffn_in.data(), gate, Grow(sc.ffn_out, H));
      return;
    }
  }
  if (sparsity > 0.0f) {
    // Only the units that survived top-k need up_proj: ~5% of each token's rows. The others'
    // up values are never computed, so they must not be multiplied (0 * garbage).
    MatMulMasked(lw.up, sc.ffn_in.data(), n, gate, up, F, pool_);
    for (int t = 0; t < n; ++t) {
      float* g = gate + t * F;
      GeluTanh(g, F);  // gelu(0) = 0
      for (int64_t i = 0; i < F; ++i) g[i] = g[i] != 0.0f ? g[i] * up[t * F + i] : 0.0f;
    }
  } else {
    MatMul(lw.up, sc.ffn_in.data(), n, up, F, pool_);
    for (int t = 0; t < n; ++t) {
      float* g = gate + t * F;
      GeluTanh(g, F);
      for (int64_t i = 0; i < F; ++i) g[i] *= up[t * F + i];
    }
  }
  MatMul(lw.down, gate, n, Grow(sc.ffn_out, n * H), H, pool_);
}

// One decoder layer over n rows: AltUp predict -> attention + LAuReL -> FFN -> AltUp correct
// -> per-layer input injection (spec 3.5).
void TextDecoder::Layer(int l, Session& s, int n) const {
  Scratch& sc = s.scratch;
  const LayerWeights& lw = w_.layers[l];
  const int64_t H = c_.hidden_size, A = c_.altup_num_inputs, P = c_.per_layer_dim, a = c_.altup_active_idx;
  const int64_t LP = c_.num_layers * P, TH = n * H;
  const float eps = c_.rms_norm_eps;
  float* S = sc.streams.data();
  float* pred = Grow(sc.pred, A * TH);
  float* m = Grow(sc.router_out, n * A);

  // (1) predict: pred_i = s_i + sum_j C[i][j] s_j, C from the router of the active stream.
  Route(lw, S + a * TH, n, sc, m);
  for (int t = 0; t < n; ++t) {
    float C[64];
    for (int64_t r = 0; r < A * A; ++r) {
      float acc = 0.0f;
      for (int64_t j = 0; j < A; ++j) acc += lw.altup_prediction[r * A + j] * m[t * A + j];
      C[r] = acc;
    }
    for (int64_t i = 0; i < A; ++i) {
      float* out = pred + i * TH + t * H;
      std::copy(S + i * TH + t * H, S + i * TH + (t + 1) * H, out);
      for (int64_t j = 0; j < A; ++j) Axpy(C[i * A + j], S + j * TH + t * H, out, H);
    }
  }
  const float* active = pred + a * TH;

  // (2) input norm, (3) LAuReL, (4) attention.
  float* xn = Grow(sc.xn, TH);
  for (int t = 0; t < n; ++t) RmsNorm(active + t * H, lw.input_norm.data(), H, eps, xn + t * H);
  float* lau_low = Grow(sc.lau_low, n * c_.laurel_rank);
  float* lau = Grow(sc.lau, TH);
  MatMul(lw.laurel_left, xn, n, lau_low, c_.laurel_rank, pool_);
  MatMul(lw.laurel_right, lau_low, n, lau, H, pool_);
  for (int t = 0; t < n; ++t) {
    RmsNorm(lau + t * H, lw.laurel_post_norm.data(), H, eps, lau + t * H);
    for (int64_t i = 0; i < H; ++i) lau[t * H + i] += xn[t * H + i];
  }
  Attention(l, s, n);

  // (5) residual merge, (6) FFN.
  float* att = sc.att.data();
  float* h2 = Grow(sc.h2, TH);
  float* ffn_in = Grow(sc.ffn_in, TH);
  const float sqrt2 = std::sqrt(2.0f);
  for (int t = 0; t < n; ++t) {
    RmsNorm(att + t * H, lw.post_attn_norm.data(), H, eps, att + t * H);
    for (int64_t i = 0; i < H; ++i) h2[t * H + i] = (active[t * H + i] + att[t * H + i] + lau[t * H + i]) / sqrt2;
    RmsNorm(h2 + t * H, lw.pre_ffn_norm.data(), H, eps, ffn_in + t * H);
  }
  Mlp(l, sc, n);
  float* h3 = Grow(sc.h3, TH);
  float* ffn_out = sc.ffn_out.data();
  for (int t = 0; t < n; ++t) {
    RmsNorm(ffn_out + t * H, lw.post_ffn_norm.data(), H, eps, ffn_out + t * H);
    for (int64_t i = 0; i < H; ++i) h3[t * H + i] = h2[t * H + i] + ffn_out[t * H + i];
  }

  // (7) correct: s'_i = pred_i + (1 + Wc m')_i * (h3 - pred_a).
  Route(lw, h3, n, sc, m);
  float* delta = Grow(sc.tmp, TH);
  for (int64_t i = 0; i < TH; ++i) delta[i] = h3[i] - active[i];
  for (int t = 0; t < n; ++t) {
    for (int64_t i = 0; i < A; ++i) {
      float wi = 1.0f;
      for (int64_t j = 0; j < A; ++j) wi += lw.altup_correction[i * A + j] * m[t * A + j];
      float* dst = S + i * TH + t * H;
      std::copy(pred + i * TH + t * H, pred + i * TH + (t + 1) * H, dst);
      Axpy(wi, delta + t * H, dst, H);
    }
  }

  // (8) per-layer input: gelu(Wg (s_a * scale)) * u_l -> Wp -> norm, (9) added to streams != 0.
  float* g_in = Grow(sc.tmp, TH);  // delta is no longer needed
  for (int t = 0; t < n; ++t)
    for (int64_t i = 0; i < H; ++i)
      g_in[t * H + i] = S[a * TH + t * H + i] * (c_.altup_correct_scale ? lw.altup_correct_scale[i] : 1.0f);
  float* g = Grow(sc.pl_gate, n * P);
  MatMul(lw.per_layer_gate, g_in, n, g, P, pool_);
  GeluTanh(g, n * P);
  for (int t = 0; t < n; ++t)
    for (int64_t i = 0; i < P; ++i) g[t * P + i] *= sc.ple_tok[t * LP + l * P + i];
  float* pl = Grow(sc.pl_out, TH);
  MatMul(lw.per_layer_proj, g, n, pl, H, pool_);
  for (int t = 0; t < n; ++t) {
    RmsNorm(pl + t * H, lw.post_per_layer_norm.data(), H, eps, pl + t * H);
    for (int64_t k = 1; k < A; ++k)
      for (int64_t i = 0; i < H; ++i) S[k * TH + t * H + i] += pl[t * H + i];
  }
}

// Keeps only `rows` of the streams, per-layer inputs and positions.
void TextDecoder::Compact(Scratch& sc, int n, const std::vector<int>& rows) const {
  const int64_t H = c_.hidden_size, A = c_.altup_num_inputs, LP = static_cast<int64_t>(c_.num_layers) * c_.per_layer_dim;
  const int64_t m = static_cast<int64_t>(rows.size());
  for (int64_t k = 0; k < A; ++k)
    for (int64_t r = 0; r < m; ++r)
      std::copy_n(sc.streams.data() + (k * n + rows[r]) * H, H, sc.pred.data() + (k * m + r) * H);
  std::copy_n(sc.pred.data(), A * m * H, sc.streams.data());
  for (int64_t r = 0; r < m; ++r) {
    std::copy_n(sc.ple_tok.data() + rows[r] * LP, LP, sc.ple_ctx.data() + r * LP);
    sc.pos[r] = sc.pos[rows[r]];
  }
  std::copy_n(sc.ple_ctx.data(), m * LP, sc.ple_tok.data());
}

// Rescale streams 1.. back to stream 0's RMS, average all streams, final norm (spec 3.9).
void TextDecoder::Collapse(Scratch& sc, int n) const {
  const int64_t H = c_.hidden_size, A = c_.altup_num_inputs, TH = n * H;
  const float* S = sc.streams.data();
  float* acc = Grow(sc.collapse, TH);
  std::copy_n(S, TH, acc);
  float* y = Grow(sc.tmp, TH);
  for (int64_t k = 1; k < A; ++k) {
    MatMul(w_.altup_unembed[k - 1], S + k * TH, n, y, H, pool_);
    for (int t = 0; t < n; ++t) {
      const float target = std::sqrt(MeanSquare(S + t * H, H));
      const float mag = std::sqrt(std::max(MeanSquare(y + t * H, H), 1e-5f));
      for (int64_t i = 0; i < H; ++i) acc[t * H + i] += y[t * H + i] * target / mag;
    }
  }
  for (int t = 0; t < n; ++t) {
    for (int64_t i = 0; i < H; ++i) acc[t * H + i] /= static_cast<float>(A);
    RmsNorm(acc + t * H, w_.final_norm.data(), H, c_.rms_norm_eps, acc + t * H);
  }
}

Status TextDecoder::Forward(Session& s, const int32_t* tokens, int T, const std::vector<int>& logit_rows,
                            float* logits, ForwardTrace* trace, const EmbeddingOverrides* overrides) const {
  if (T <= 0) return Error("forward: empty token chunk");
  if (T > s.max_chunk)
    return Error("forward: chunk of " + std::to_string(T) + " tokens exceeds the session's max chunk " +
                 std::to_string(s.max_chunk));
  if (s.pos + T > s.capacity)
    return Error("context full: " + std::to_string(s.pos) + " cached + " + std::to_string(T) +
                 " new tokens exceed the context size " + std::to_string(s.capacity));
  for (int t = 0; t < T; ++t)
    if (tokens[t] < 0 || tokens[t] >= c_.vocab_size)
      return Error("token id " + std::to_string(tokens[t]) + " at index " + std::to_string(t) +
                   " is outside the vocabulary [0, " + std::to_string(c_.vocab_size) + ")");
  for (int r : logit_rows)
    if (r < 0 || r >= T) return Error("forward: logit row " + std::to_string(r) + " outside the chunk");
  if (overrides != nullptr) {
    if (!overrides->rows.empty() && overrides->data == nullptr) return Error("forward: embedding overrides without data");
    for (int r : overrides->rows)
      if (r < 0 || r >= T) return Error("forward: embedding override row " + std::to_string(r) + " outside the chunk");
  }

  Scratch& sc = s.scratch;
  const int64_t H = c_.hidden_size, A = c_.altup_num_inputs, L = c_.num_layers;
  Grow(sc.pos, T);
  Grow(sc.ple_ids, T);
  for (int t = 0; t < T; ++t) {
    sc.pos[t] = s.pos + t;
    // Ids past the PLE table (vision/audio) take the <pad> row, as the multimodal model does.
    sc.ple_ids[t] = tokens[t] < c_.vocab_size_per_layer_input ? tokens[t] : 0;
  }
  ple_rows_->Prefetch(sc.ple_ids.data(), T);
  Embed(sc, tokens, T, overrides);
  PerLayerInputs(sc, tokens, T);
  ExpandStreams(sc, T);
  if (trace != nullptr) {
    trace->embeddings.assign(sc.x0.begin(), sc.x0.begin() + T * H);
    trace->per_layer_inputs.assign(sc.ple_tok.begin(), sc.ple_tok.begin() + T * L * c_.per_layer_dim);
    trace->layer_out.assign(L, {});
  }

  // Rows past the last KV-owning layer only matter where logits are wanted.
  const bool compact = trace == nullptr && static_cast<int>(logit_rows.size()) < T;
  int n = T;
  for (int l = 0; l <= L; ++l) {
    if (compact && n == T && (l == c_.first_kv_shared || l == L)) {
      Compact(sc, n, logit_rows);
      n = static_cast<int>(logit_rows.size());
    }
    if (l == L || n == 0) break;
    Layer(static_cast<int>(l), s, n);
    if (trace != nullptr) trace->layer_out[l].assign(sc.streams.begin(), sc.streams.begin() + A * n * H);
  }
  if (s.pos == 0) s.written = 0;  // a cache started over
  s.pos += T;
  s.written = std::max(s.written, s.pos);
  if (logit_rows.empty()) return Status();

  Collapse(sc, n);
  if (trace != nullptr) trace->final_hidden.assign(sc.collapse.begin(), sc.collapse.begin() + n * H);
  const int64_t m = static_cast<int64_t>(logit_rows.size());
  float* hidden = Grow(sc.tmp, m * H);
  for (int64_t r = 0; r < m; ++r)
    std::copy_n(sc.collapse.data() + (n == T ? logit_rows[r] : r) * H, H, hidden + r * H);
  MatMul(w_.embed, hidden, m, logits, c_.vocab_size, pool_);
  if (c_.final_logit_softcap > 0.0f) SoftCap(logits, m * c_.vocab_size, c_.final_logit_softcap);
  return Status();
}

}  // namespace g3n
