// One conformer block (spec §3.6): half-step FFW -> local attention -> zero padded frames ->
// light conv -> half-step FFW -> RMSNorm, every residual as transformers adds it.
#pragma once
#include <cstdint>

#include "audio/audio_config.h"
#include "audio/audio_weights.h"
#include "audio/conformer_attention.h"
#include "kernels/thread_pool.h"

namespace g3n {

// x [T, D] in place; valid[t] = 0 marks padded frames.
void RunConformerBlock(const AudioConfig& c, const ConformerWeights& w, const AttentionConstants& k, float* x,
                       const uint8_t* valid, int64_t T, ThreadPool* pool);

}  // namespace g3n
