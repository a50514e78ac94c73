// What a g3n_model handle owns: the weights, one thread pool and decoder shared by all of its
// sessions, the tokenizer (when the checkpoint has one), the session shape, and the lock that
// takes the sessions through the decoder one forward step at a time.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/api_status.h"
#include "api/fair_lock.h"
#include "kernels/thread_pool.h"
#include "model/model.h"
#include "model/text_decoder.h"
#include "tokenizer/tokenizer.h"

namespace g3n::api {

struct Engine {
  std::unique_ptr<Model> model;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<TextDecoder> decoder;
  std::optional<Tokenizer> tokenizer;
  SessionOptions session;  // capacity, prefill chunk, KV type of every session
  std::string name;
  std::vector<int32_t> eos_ids;
  std::vector<int32_t> open_model_turn;  // "<start_of_turn>model\n"
  std::vector<int32_t> close_turn;       // "<end_of_turn>\n"
  mutable FairLock step_lock;

  ApiStatus NeedTokenizer() const;
};

ApiStatus LoadEngine(const std::string& path, const g3n_model_options& options, std::unique_ptr<Engine>* out);

}  // namespace g3n::api
