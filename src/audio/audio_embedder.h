// HF Gemma3nMultimodalEmbedder as `embed_audio` (spec §4.1): maps encoder frames (soft path) or
// audio token ids (hard path, a 128-row table) into the text model's embedding space:
// RMSNorm(w) -> projection (no bias) -> RMSNorm without scale, so every row has unit RMS.
#pragma once
#include <cstdint>

#include "audio/audio_weights.h"
#include "kernels/thread_pool.h"
#include "util/status.h"

namespace g3n {

class AudioEmbedder {
 public:
  // `w` must outlive the embedder.
  AudioEmbedder(const AudioWeights& w, ThreadPool* pool) : w_(w), pool_(pool) {}

  // x [n, audio hidden] -> out [n, text hidden].
  void Soft(const float* x, int64_t n, float* out) const;
  // One id in [vocab_offset, vocab_offset + vocab_size) -> out [text hidden].
  Status Hard(int64_t id, float* out) const;
  bool IsAudioId(int64_t id) const {
    return id >= w_.config.vocab_offset && id < static_cast<int64_t>(w_.config.vocab_offset) + w_.config.vocab_size;
  }

 private:
  void Project(const float* normed, int64_t n, float* out) const;
  const AudioWeights& w_;
  ThreadPool* pool_;
};

}  // namespace g3n
