// What running a text session will add to a loaded model's memory, for the check before any
// weight is touched (util/memory_budget.h): the weights every token reads, the KV cache at the
// full context (sliding layers: their ring; consumer layers: nothing), one prefill chunk's
// activations and the PLE row cache. Estimates, not accounting: they err on the high side.
#pragma once
#include <cstddef>

#include "model/config.h"
#include "model/text_decoder.h"
#include "model/weights.h"
#include "util/memory_budget.h"

namespace g3n {

// KV bytes of one session holding `capacity` positions (what KvStore allocates when full).
size_t KvCacheBytes(const TextConfig& c, const SessionOptions& s);
// Activation bytes of one Forward over `chunk` tokens (Scratch at its largest).
size_t ActivationBytes(const TextConfig& c, int chunk);

// The model's weights (not yet touched) and one session of shape `s`, run by `threads` threads.
MemoryNeed TextRunNeed(const TextConfig& c, const TextWeights& w, const SessionOptions& s, int threads);
// One more session of shape `s` on a model already running.
MemoryNeed SessionNeed(const TextConfig& c, const SessionOptions& s);

}  // namespace g3n
