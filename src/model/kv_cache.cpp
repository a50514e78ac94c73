#include "model/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/mixed_ops.h"

namespace g3n {

Result<KvType> ParseKvType(const std::string& s) {
  if (s == "f32") return KvType::F32;
  if (s == "f16") return KvType::F16;
  if (s == "bf16") return KvType::BF16;
  if (s == "q8") return KvType::Q8;
  return Error("unknown KV cache type '" + s + "' (expected f32, f16, bf16 or q8)");
}

const char* KvTypeName(KvType t) {
  switch (t) {
    case KvType::F32: return "f32";
    case KvType::F16: return "f16";
    case KvType::BF16: return "bf16";
    default: return "q8";
  }
}

KvStore::KvStore(KvType type, int heads, int head_dim, int slots, bool ring)
    : type_(type), heads_(heads), head_dim_(head_dim), slots_(slots), ring_(ring) {
  switch (type) {
    case KvType::F32: elem_ = DType::F32; break;
    case KvType::F16: elem_ = DType::F16; break;
    case KvType::BF16: elem_ = DType::BF16; break;
    case KvType::Q8: elem_ = DType::I8; break;
  }
  // Q8 heads carry their fp32 scale in front of the int8 values.
  head_bytes_ = static_cast<size_t>(head_dim) * DTypeSize(elem_) + (type == KvType::Q8 ? sizeof(float) : 0);
  row_bytes_ = head_bytes_ * heads;
}

const uint8_t* KvStore::Row(int pos) const {
  const int slot = ring_ ? pos % slots_ : pos;
  return blocks_[slot / kBlockRows].get() + static_cast<size_t>(slot % kBlockRows) * row_bytes_;
}

void KvStore::Write(int pos, const float* row) {
  const int slot = ring_ ? pos % slots_ : pos;
  const size_t block = static_cast<size_t>(slot / kBlockRows);
  while (blocks_.size() <= block) blocks_.emplace_back(new uint8_t[kBlockRows * row_bytes_]);
  uint8_t* dst = blocks_[block].get() + static_cast<size_t>(slot % kBlockRows) * row_bytes_;
  for (int h = 0; h < heads_; ++h) {
    const float* x = row + h * head_dim_;
    uint8_t* d = dst + HeadOffset(h);
    switch (type_) {
      case KvType::F32:
        std::memcpy(d, x, head_dim_ * sizeof(float));
        break;
      case KvType::F16:
      case KvType::BF16: {
        auto* o = reinterpret_cast<uint16_t*>(d);
        for (int i = 0; i < head_dim_; ++i) o[i] = type_ == KvType::F16 ? F32ToF16(x[i]) : F32ToBf16(x[i]);
        break;
      }
      case KvType::Q8: {
        float amax = 0.0f;
        for (int i = 0; i < head_dim_; ++i) amax = std::max(amax, std::fabs(x[i]));
        const float scale = amax / 127.0f;
        const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
        std::memcpy(d, &scale, sizeof(float));
        auto* q = reinterpret_cast<int8_t*>(d + sizeof(float));
        for (int i = 0; i < head_dim_; ++i) q[i] = static_cast<int8_t>(std::lrintf(x[i] * inv));
        break;
      }
    }
  }
}

float KvStore::DotHead(int pos, int head, const float* q) const {
  const uint8_t* d = Row(pos) + HeadOffset(head);
  if (type_ != KvType::Q8) return DotMixed(q, elem_, d, head_dim_);
  float scale;
  std::memcpy(&scale, d, sizeof(float));
  return scale * DotMixed(q, DType::I8, d + sizeof(float), head_dim_);
}

void KvStore::AxpyHead(int pos, int head, float alpha, float* out) const {
  const uint8_t* d = Row(pos) + HeadOffset(head);
  if (type_ != KvType::Q8) return AxpyMixed(alpha, elem_, d, out, head_dim_);
  float scale;
  std::memcpy(&scale, d, sizeof(float));
  AxpyMixed(alpha * scale, DType::I8, d + sizeof(float), out, head_dim_);
}

template <class Fn>
void KvStore::ForEachRun(int lo, int hi, Fn&& fn) const {
  int pos = lo;
  while (pos <= hi) {
    const int slot = ring_ ? pos % slots_ : pos;
    int count = std::min(hi - pos + 1, kBlockRows - slot % kBlockRows);
    if (ring_) count = std::min(count, slots_ - slot);
    fn(pos, count, Row(pos));
    pos += count;
  }
}

void KvStore::Scores(int head, const float* q, int lo, int hi, float* scores) const {
  const size_t scale_bytes = type_ == KvType::Q8 ? sizeof(float) : 0;
  ForEachRun(lo, hi, [&](int first, int count, const uint8_t* row) {
    const uint8_t* h = row + HeadOffset(head);
    DotRows(q, elem_, h + scale_bytes, row_bytes_, count, head_dim_, scores + (first - lo));
    if (type_ != KvType::Q8) return;
    for (int j = 0; j < count; ++j) {
      float s;
      std::memcpy(&s, h + static_cast<size_t>(j) * row_bytes_, sizeof(float));
      scores[first - lo + j] *= s;
    }
  });
}

void KvStore::Mix(int head, const float* p, int lo, int hi, float* out) const {
  const size_t scale_bytes = type_ == KvType::Q8 ? sizeof(float) : 0;
  thread_local std::vector<float> scaled;
  ForEachRun(lo, hi, [&](int first, int count, const uint8_t* row) {
    const uint8_t* h = row + HeadOffset(head);
    const float* w = p + (first - lo);
    if (type_ == KvType::Q8) {
      scaled.resize(count);
      for (int j = 0; j < count; ++j) {
        float s;
        std::memcpy(&s, h + static_cast<size_t>(j) * row_bytes_, sizeof(float));
        scaled[j] = w[j] * s;
      }
      w = scaled.data();
    }
    AxpyRows(w, elem_, h + scale_bytes, row_bytes_, count, head_dim_, out);
  });
}

void KvStore::ReadRow(int pos, float* out) const {
  for (int h = 0; h < heads_; ++h) {
    float* o = out + h * head_dim_;
    std::fill(o, o + head_dim_, 0.0f);
    AxpyHead(pos, h, 1.0f, o);
  }
}

}  // namespace g3n
