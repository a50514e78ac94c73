// `run` and `chat` sit on the C API (include/gemma3n.h), as an app embedding the engine would:
// the flags become g3n_model_options / g3n_generate_options.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "gemma3n.h"
#include "util/status.h"

namespace g3n::cli {

struct ApiModel {
  g3n_model* model = nullptr;
  double load_seconds = 0.0;
  ApiModel() = default;
  ApiModel(const ApiModel&) = delete;
  ApiModel& operator=(const ApiModel&) = delete;
  ~ApiModel() { g3n_model_free(model); }
};

using SessionPtr = std::unique_ptr<g3n_session, void (*)(g3n_session*)>;
// A session of `model` on the default sub-model (--submodel), freed with the pointer.
Result<SessionPtr> NewSession(g3n_model* model);

// --model, --submodel, --tokenizer, --ctx, --chunk, --kv-type, -t/--threads, --text-only.
Result<std::unique_ptr<ApiModel>> LoadApiModel(const Args& args);
// The model's generation defaults overridden by -n, --temp, --top-k, --top-p, --min-p,
// --repeat-penalty, --seed and --greedy.
Result<g3n_generate_options> GenerateOptionsFromArgs(const Args& args, const g3n_model* model, int default_n);
// The C API's message for the failed call.
Status ApiFailure(g3n_status status);
// Reads each file and attaches it to the session's next user message (g3n_session_add_image /
// g3n_session_add_audio); errors name the file.
Status AttachMedia(g3n_session* s, const std::vector<std::string>& images, const std::vector<std::string>& audio);
Result<std::vector<uint8_t>> ReadBinaryFile(const std::string& path);

}  // namespace g3n::cli
