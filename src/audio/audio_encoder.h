// HF Gemma3nAudioEncoder (spec §3.4): log-mel features [T, bins] + validity mask ->
// SSCP -> conformer blocks -> keep every reduction_factor-th frame -> zero padded frames.
// Activations are fp32; linear layers run through the repo's MatMul on the pool.
#pragma once
#include <cstdint>
#include <vector>

#include "audio/audio_weights.h"
#include "audio/conformer_attention.h"
#include "audio/mel_features.h"
#include "kernels/thread_pool.h"
#include "util/status.h"

namespace g3n {

struct AudioEncoding {
  int64_t frames = 0;           // N
  int hidden = 0;               // D
  std::vector<float> values;    // [N, D]; rows of padded frames are zero
  std::vector<uint8_t> valid;   // [N], 1 = real audio
};

// Optional per-stage capture for tests.
struct AudioEncoderTrace {
  std::vector<float> sscp;                 // [T2, D]
  std::vector<uint8_t> sscp_valid;         // [T2]
  std::vector<std::vector<float>> blocks;  // per block [T2, D]
};

// Checks that `f` holds frames x bins values with the model's bin count and, if present, one
// mask entry per frame.
Status CheckFeatures(const MelFeatures& f, const AudioConfig& c);

class AudioEncoder {
 public:
  // `w` must outlive the encoder.
  AudioEncoder(const AudioWeights& w, ThreadPool* pool);

  // features [frames, input_feat_size]; valid[t] = 1 for real frames (null: all real).
  Result<AudioEncoding> Encode(const float* features, const uint8_t* valid, int64_t frames,
                               AudioEncoderTrace* trace = nullptr) const;
  Result<AudioEncoding> Encode(const MelFeatures& f, AudioEncoderTrace* trace = nullptr) const;

  // N for a clip of `frames` mel frames.
  int64_t OutputFrames(int64_t frames) const;
  const AudioConfig& config() const { return w_.config; }

 private:
  const AudioWeights& w_;
  ThreadPool* pool_;
  std::vector<AttentionConstants> attn_;  // per block
};

}  // namespace g3n
