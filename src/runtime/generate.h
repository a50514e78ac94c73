// The generation loop: chunked batched prefill of the prompt (logits of its last token only),
// then one decode step per new token until a stop id, the token budget or the callback says stop.
#pragma once
#include <functional>
#include <vector>

#include "model/text_decoder.h"
#include "runtime/sampler.h"

namespace g3n {

struct GenerateOptions {
  int max_new_tokens = 128;
  int prefill_chunk = 512;
  SamplingParams sampling;
  std::vector<int> stop_ids;
};

struct GenerateStats {
  int prompt_tokens = 0;
  int generated_tokens = 0;
  double prefill_seconds = 0.0;
  double decode_seconds = 0.0;
};

// on_token returns false to stop early. Generated ids are appended to `out` (stop id excluded).
Status Generate(const TextDecoder& model, Session& session, const std::vector<int32_t>& prompt,
                const GenerateOptions& opt, const std::function<bool(int32_t)>& on_token, std::vector<int32_t>* out,
                GenerateStats* stats);

// Feeds tokens in chunks; returns the logits of the last token in `last_logits` if non-null.
Status Prefill(const TextDecoder& model, Session& session, const std::vector<int32_t>& tokens, int chunk,
               std::vector<float>* last_logits);

}  // namespace g3n
