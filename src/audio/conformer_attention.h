// The conformer's local self-attention (spec §3.6 LOCAL_ATTN). HF evaluates it on 12-frame
// query blocks with 24-frame key contexts and a Transformer-XL relative shift; algebraically
// that is a sliding window (query t sees keys t - max_past .. t + context_right) with a learned
// bias q · P[t_q - t_k], which is what this computes directly, frame by frame.
#pragma once
#include <cstdint>
#include <vector>

#include "audio/audio_config.h"
#include "audio/audio_weights.h"
#include "kernels/thread_pool.h"

namespace g3n {

// Weight-derived constants of one block's attention, computed once per encoder.
struct AttentionConstants {
  std::vector<float> pos_keys;  // [max_past + context_right + 1, D]; row r is distance max_past - r
  std::vector<float> q_scale;   // [head_dim]: head_dim^-0.5 / softplus(0) * softplus(per_dim_scale)
};

AttentionConstants MakeAttentionConstants(const AudioConfig& c, const AttentionWeights& w, ThreadPool* pool);

// h [T, D] (already pre-normed) -> out [T, D] (heads concatenated, before the `post` linear).
// valid[t] = 0 marks padded frames, which are never attended to.
void LocalAttention(const AudioConfig& c, const AttentionWeights& w, const AttentionConstants& k, const float* h,
                    const uint8_t* valid, int64_t T, float* out, ThreadPool* pool);

}  // namespace g3n
