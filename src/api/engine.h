// What a g3n_model handle owns: the weights, one thread pool and decoder shared by all of its
// sessions, the tokenizer (when the checkpoint has one), the session shape, and the lock that
// takes the sessions through the decoder one forward step at a time.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/api_status.h"
#include "api/fair_lock.h"
#include "api/media.h"
#include "kernels/thread_pool.h"
#include "model/model.h"
#include "model/submodel.h"
#include "model/text_decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/memory_budget.h"

namespace g3n::api {

// One runnable shape of the loaded weights: the whole model or a MatFormer sub-model. All
// variants view the same resident weights; each has its own decoder (PLE row cache, sparse-FFN
// views), so sessions on different sub-models run side by side from one load.
struct Variant {
  std::string name;              // canonical sub-model name; "" = the whole model
  std::unique_ptr<SubModel> sub;  // null for the whole model; the decoder keeps references
  std::unique_ptr<TextDecoder> decoder;
};

struct Engine {
  std::unique_ptr<Model> model;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Media> media;            // image/audio towers, loaded on first use
  const TextDecoder* decoder = nullptr;  // the default variant's (g3n_model_options.sub_model)
  std::string default_sub_model;       // as given in the options
  std::string default_sub_model_name;  // its canonical name ("" = the whole model)
  std::vector<std::string> sub_model_names;  // the published sub-models this model can run
  std::optional<Tokenizer> tokenizer;
  SessionOptions session;  // capacity, prefill chunk, KV type of every session
  uint64_t memory_limit = 0;  // g3n_model_options.memory_limit_mb in bytes (0 = none)
  mutable MemoryLedger memory;  // weights, sessions and towers against the limits read at load
  std::string name;
  std::vector<int32_t> eos_ids;
  std::vector<int32_t> open_model_turn;  // "<start_of_turn>model\n"
  std::vector<int32_t> close_turn;       // "<end_of_turn>\n"
  mutable FairLock step_lock;

  ApiStatus NeedTokenizer() const;
  // Before a session's KV cache exists: books its full-context memory in `memory`, or refuses
  // it. *bytes gets what to hand back (Release) when the session ends.
  ApiStatus ReserveSessionMemory(const Variant& v, uint64_t* bytes) const;
  // The variant for `sub_model` (a published name or spec file; "" = the default), built on
  // first use and then shared. Invalid choices are G3N_ERR_INVALID_ARGUMENT.
  ApiStatus GetVariant(const std::string& sub_model, const Variant** out) const;

 private:
  mutable std::mutex variants_mu_;
  mutable std::map<std::string, std::unique_ptr<Variant>> variants_;
};

ApiStatus LoadEngine(const std::string& path, const g3n_model_options& options, std::unique_ptr<Engine>* out);

}  // namespace g3n::api
