// embed_vision (HF Gemma3nMultimodalEmbedder, spec §4.1): RMSNorm(w) -> Linear -> RMSNorm
// without scale. Soft path: encoder tokens (already times sqrt(hidden_size), §2.6); hard path:
// rows of its own 128-row table for ids in [vocab_offset, vocab_offset + vocab_size).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/thread_pool.h"
#include "util/status.h"
#include "vision/vision_weights.h"

namespace g3n {

// tokens: [n, hidden_size] -> [n, text_hidden].
std::vector<float> EmbedVisionSoft(const VisionWeights& w, const float* tokens, int64_t n, ThreadPool* pool);
// One id in the vision hard-token range -> [text_hidden]; other ids are an error.
Result<std::vector<float>> EmbedVisionHard(const VisionWeights& w, int32_t id);

}  // namespace g3n
