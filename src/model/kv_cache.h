// The KV cache of one layer that owns K/V. Sliding-window layers keep a ring of
// window + max_chunk - 1 positions (enough for the oldest key a chunk's first query needs);
// global layers grow with the context in blocks, so memory follows the tokens actually seen.
// Rows are stored as F32 (exact), F16/BF16 (half), or Q8 (int8 + one fp32 scale per head).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "util/status.h"

namespace g3n {

enum class KvType { F32, F16, BF16, Q8 };
Result<KvType> ParseKvType(const std::string& s);  // "f32", "f16", "bf16", "q8"
const char* KvTypeName(KvType t);

class KvStore {
 public:
  // `slots` positions are kept: all of them (ring = false) or the latest `slots` (ring = true).
  KvStore(KvType type, int heads, int head_dim, int slots, bool ring);

  void Write(int pos, const float* row);  // heads * head_dim values
  float DotHead(int pos, int head, const float* q) const;
  void AxpyHead(int pos, int head, float alpha, float* out) const;
  void ReadRow(int pos, float* out) const;  // widened copy, for tests and debugging
  // Attention over positions [lo, hi]: scores[j - lo] = q · K_j[head]; out += sum p[j-lo] V_j[head].
  void Scores(int head, const float* q, int lo, int hi, float* scores) const;
  void Mix(int head, const float* p, int lo, int hi, float* out) const;
  size_t bytes() const { return blocks_.size() * kBlockRows * row_bytes_; }
  bool ring() const { return ring_; }
  int slots() const { return slots_; }

 private:
  static constexpr int kBlockRows = 64;
  const uint8_t* Row(int pos) const;
  // Calls fn(first_pos, count, first_row) for runs of positions stored contiguously.
  template <class Fn>
  void ForEachRun(int lo, int hi, Fn&& fn) const;
  size_t HeadOffset(int head) const { return static_cast<size_t>(head) * head_bytes_; }

  KvType type_;
  DType elem_;
  int heads_, head_dim_, slots_;
  bool ring_;
  size_t head_bytes_, row_bytes_;
  std::vector<std::unique_ptr<uint8_t[]>> blocks_;
};

}  // namespace g3n
