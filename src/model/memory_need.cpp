#include "model/memory_need.h"

#include <algorithm>

#include "model/kv_cache.h"

namespace g3n {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
// Allocator slack, the tokenizer, page tables, libraries and pages mapped around the touched
// ones: measured ~93 MiB beside the weights, KV and activations of the full-size E2B
// all-4-bit (bench --memory: 6.8% of its weights), ~8 MiB for the tiny fixtures.
size_t Overhead(size_t weights) { return 16 * kMiB + weights / 100 * 7; }
// Per thread: its stack and the malloc arena glibc reserves for it (address space only).
constexpr size_t kPerThreadReserve = (8 + 64) * kMiB;

size_t KvRowBytes(const TextConfig& c, KvType t) {
  const size_t elem = t == KvType::F32 ? 4 : t == KvType::Q8 ? 1 : 2;
  return static_cast<size_t>(c.num_kv_heads) * (c.head_dim * elem + (t == KvType::Q8 ? 4 : 0));
}

}  // namespace

size_t KvCacheBytes(const TextConfig& c, const SessionOptions& s) {
  const int chunk = std::max(1, std::min(s.max_chunk, s.capacity));
  const int ring = c.sliding_window + chunk - 1;
  size_t rows = 0;
  for (int l = 0; l < c.num_layers; ++l) {
    if (c.is_kv_consumer(l)) continue;
    const bool sliding = c.layer_types[l] == LayerType::Sliding && ring < s.capacity;
    const size_t slots = static_cast<size_t>(sliding ? ring : s.capacity);
    rows += (slots + 63) / 64 * 64;  // KvStore's 64-row blocks
  }
  return 2 * rows * KvRowBytes(c, s.kv_type);  // K and V
}

size_t ActivationBytes(const TextConfig& c, int chunk) {
  const size_t H = c.hidden_size, P = c.per_layer_dim, LP = static_cast<size_t>(c.num_layers) * P;
  size_t F = 0;
  for (int f : c.intermediate_size) F = std::max(F, static_cast<size_t>(f));
  const size_t Q = static_cast<size_t>(c.num_heads) * c.head_dim, KV = static_cast<size_t>(c.num_kv_heads) * c.head_dim;
  const size_t A = c.altup_num_inputs;
  // Per token, as TextDecoder's Scratch grows: PLE inputs (2 x L*P), the AltUp streams and their
  // predictions (2A x H), ~12 more H-wide rows (norms, LAuReL, residuals, collapse), the FFN
  // (gate, up: 2 x F), attention (q and its output 2 x Q, k and v 2 x KV), the per-layer gate.
  const size_t per_token = 2 * LP + (2 * A + 12) * H + 2 * F + 2 * Q + 2 * KV + P + A + c.laurel_rank;
  return (per_token * static_cast<size_t>(std::max(chunk, 1)) + c.vocab_size) * sizeof(float);
}

MemoryNeed SessionNeed(const TextConfig& c, const SessionOptions& s) {
  MemoryNeed n;
  const size_t kv = KvCacheBytes(c, s), act = ActivationBytes(c, std::min(s.max_chunk, s.capacity));
  n.resident = kv + act;
  n.reserved = kv + act;
  n.breakdown = "KV cache for " + std::to_string(s.capacity) + " tokens " + MiB(kv) + " + activations " + MiB(act);
  return n;
}

MemoryNeed TextRunNeed(const TextConfig& c, const TextWeights& w, const SessionOptions& s, int threads) {
  const size_t weights = ResidentWeightBytes(w), ple_cache = 8 * kMiB, overhead = Overhead(weights);
  MemoryNeed n = SessionNeed(c, s);
  n.resident += weights + ple_cache + overhead;
  n.reserved += ple_cache + overhead + static_cast<size_t>(std::max(threads, 1)) * kPerThreadReserve;
  n.breakdown = "weights " + MiB(weights) + " + " + n.breakdown + " + caches and runtime " + MiB(ple_cache + overhead);
  return n;
}

}  // namespace g3n
