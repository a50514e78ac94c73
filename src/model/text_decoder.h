// The Gemma 3n text decoder: token ids -> embeddings + per-layer inputs -> AltUp streams ->
// decoder layers -> stream collapse -> soft-capped logits. One Forward call runs a chunk of
// tokens (a whole prompt for prefill, one token for decode) against a Session's KV cache.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "io/row_source.h"
#include "kernels/thread_pool.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/sparse_ffn.h"
#include "model/weights.h"

namespace g3n {

// Buffers reused across Forward calls: they grow to the largest chunk once, so decode steps
// do not allocate.
struct Scratch {
  std::vector<float> x0, ple_tok, ple_ctx, streams, pred, xn, lau_low, lau, q, k, v, attn, att, h2, h3, ffn_in,
      gate, up, ffn_out, router_in, router_out, pl_gate, pl_out, tmp, collapse;
  std::vector<int> pos;
  std::vector<int32_t> ple_ids;
  size_t bytes() const;
};

// Tokens per prefill step by default. The activations of a step grow with it (E2B: ~0.3 MiB per
// token) while prefill speed does not: measured on the full-size E2B all-4-bit replica, 1K
// prompt, 2 threads, chunk 128 prefilled as fast as 512 (51-65 vs 55-56 tok/s, loaded machine)
// with a 129 MiB lower peak RSS (1524.6 vs 1653.3 MiB).
inline constexpr int kDefaultPrefillChunk = 128;

struct SessionOptions {
  int capacity = 4096;  // context size in tokens
  int max_chunk = kDefaultPrefillChunk;  // largest chunk one Forward call may run (sizes the sliding-window rings)
  KvType kv_type = KvType::F32;
};

struct Session {
  int capacity = 0;  // positions the cache can hold
  int max_chunk = 0;
  int pos = 0;       // tokens already in the cache
  // One past the highest position written since the cache was last emptied (pos = 0). After a
  // rewind it stays above pos: a sliding-window ring then holds [written - slots, written),
  // not [pos - slots, pos).
  int written = 0;
  std::vector<std::unique_ptr<KvStore>> k_cache, v_cache;  // per layer; null for KV consumers
  Scratch scratch;
  size_t cache_bytes() const;
};

// Input embeddings that replace the token table's for some rows of a chunk: the soft tokens of
// images and audio clips and the hard tokens of the vision/audio embedders (ids >= 262144).
// Each row is used as given (the embedders' outputs: unit RMS, not scaled by sqrt(H)); PLE still
// reads its row from the id (ids past the PLE table read row 0).
struct EmbeddingOverrides {
  std::vector<int> rows;         // chunk rows, each at most once
  const float* data = nullptr;   // [rows.size(), hidden_size]
};

// Optional per-stage capture for tests (all rows of the chunk).
struct ForwardTrace {
  std::vector<float> embeddings;               // [T, H]
  std::vector<float> per_layer_inputs;         // [T, L, P]
  std::vector<std::vector<float>> layer_out;   // per layer [A, T, H]
  std::vector<float> final_hidden;             // [T, H]
};

class TextDecoder {
 public:
  // `ple_cache_bytes` bounds the cache of hot PLE rows.
  TextDecoder(const TextConfig& config, const TextWeights& weights, ThreadPool* pool,
              size_t ple_cache_bytes = 8u << 20);

  Session NewSession(const SessionOptions& opt) const;
  // An exact (F32) cache of `capacity` positions that accepts chunks of any size.
  Session NewSession(int capacity) const { return NewSession({capacity, capacity, KvType::F32}); }

  // Runs tokens[0..T) at positions session.pos.. and appends them to the cache. Logits
  // (soft-capped, vocab wide) are written for each chunk row listed in `logit_rows`, in order.
  // KV-consumer layers run only on those rows: nothing downstream reads their other outputs.
  Status Forward(Session& s, const int32_t* tokens, int T, const std::vector<int>& logit_rows, float* logits,
                 ForwardTrace* trace = nullptr, const EmbeddingOverrides* overrides = nullptr) const;

  const TextConfig& config() const { return c_; }
  RowSourceStats ple_stats() const { return ple_rows_->stats(); }
  size_t ple_cache_bytes() const { return ple_rows_->cache_bytes(); }
  size_t repacked_bytes() const { return sparse_ffn_->repacked_bytes(); }

 private:
  void Embed(Scratch& sc, const int32_t* tokens, int T, const EmbeddingOverrides* overrides) const;
  void PerLayerInputs(Scratch& sc, const int32_t* tokens, int T) const;
  void ExpandStreams(Scratch& sc, int T) const;
  void Layer(int l, Session& s, int n) const;
  void Route(const LayerWeights& lw, const float* x, int n, Scratch& sc, float* out) const;
  void Attention(int l, Session& s, int n) const;
  void Compact(Scratch& sc, int n, const std::vector<int>& rows) const;
  void Mlp(int l, Scratch& sc, int n) const;
  void Collapse(Scratch& sc, int n) const;

  const TextConfig& c_;
  const TextWeights& w_;
  ThreadPool* pool_;
  std::vector<float> inv_freq_local_, inv_freq_global_;
  std::unique_ptr<RowSource> ple_rows_;  // the PLE table stays on storage
  std::unique_ptr<SparseFfn> sparse_ffn_;  // decode path of the top-k sparse layers
};

}  // namespace g3n
