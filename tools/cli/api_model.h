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

// The model flags as g3n_model_options; `options` points into the strings beside it.
struct ModelFlags {
  g3n_model_options options;
  std::string kv_type, sub_model, tokenizer, towers, encoder_type;
  ModelFlags() = default;
  ModelFlags(const ModelFlags&) = delete;
  ModelFlags& operator=(const ModelFlags&) = delete;
};
// --submodel, --tokenizer, --ctx, --chunk, --kv-type, -t/--threads, --text-only, --mmproj DIR
// (the towers for a GGUF model), --encoder-type Q8_0|Q4_0|stored, --memory-limit MIB.
Result<std::unique_ptr<ModelFlags>> ModelFlagsFromArgs(const Args& args);
// --model and the flags above.
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
