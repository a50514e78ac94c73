#include "api/engine.h"

#include <algorithm>
#include <filesystem>

#include "tokenizer/gemma3n_tokens.h"

namespace g3n::api {
namespace {

namespace fs = std::filesystem;

ApiStatus CheckOptions(const g3n_model_options& o) {
  if (o.threads < 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "threads must be >= 0 (0 = all hardware threads)");
  if (o.context < 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "context must be >= 0 (0 = default)");
  if (o.prefill_chunk < 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "prefill_chunk must be >= 0 (0 = 512)");
  if (o.sub_model != nullptr && o.sub_model[0] != '\0')
    return ApiError(G3N_ERR_UNSUPPORTED, std::string("sub-model '") + o.sub_model +
                                             "': MatFormer sub-model selection is not supported yet");
  return ApiOk();
}

// Special-token text encoded with the model's tokenizer (no <bos>).
std::vector<int32_t> Ids(const Tokenizer& t, std::string_view text) { return t.Encode(text, false); }

}  // namespace

ApiStatus Engine::NeedTokenizer() const {
  if (tokenizer) return ApiOk();
  return ApiError(G3N_ERR_NO_TOKENIZER, "model '" + name +
                                            "' has no tokenizer.json: text needs one; pass token ids instead");
}

ApiStatus LoadEngine(const std::string& path, const g3n_model_options& o, std::unique_ptr<Engine>* out) {
  ApiStatus st = CheckOptions(o);
  if (!st.ok()) return st;
  auto e = std::make_unique<Engine>();
  auto model = LoadModel(path);
  if (!model.ok()) return ApiError(G3N_ERR_IO, model.status().message());
  e->model = std::move(*model);
  const ModelConfig& mc = e->model->config;

  const int max_ctx = mc.text.max_position_embeddings;
  e->session.capacity = o.context > 0 ? o.context : std::min(4096, max_ctx);
  if (e->session.capacity > max_ctx)
    return ApiError(G3N_ERR_INVALID_ARGUMENT, "context " + std::to_string(o.context) + " exceeds the model's " +
                                                  std::to_string(max_ctx) + " positions");
  e->session.max_chunk = o.prefill_chunk > 0 ? o.prefill_chunk : 512;
  auto kv = ParseKvType(o.kv_type != nullptr ? o.kv_type : "f16");
  if (!kv.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, kv.status().message());
  e->session.kv_type = *kv;

  // A folder's tokenizer.json; a GGUF file carries its vocabulary in another form, which the
  // engine does not read yet (token ids still work).
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec) && fs::exists(p / "tokenizer.json", ec)) {
    auto tok = gemma3n::LoadTokenizer(path);
    if (!tok.ok()) return ApiError(G3N_ERR_IO, tok.status().message());
    e->tokenizer.emplace(std::move(*tok));
    e->open_model_turn = Ids(*e->tokenizer, "<start_of_turn>model\n");
    e->close_turn = Ids(*e->tokenizer, "<end_of_turn>\n");
  }
  e->name = p.filename().string();
  if (e->name.empty()) e->name = p.parent_path().filename().string();  // "dir/"
  e->eos_ids.assign(mc.generation.eos_token_ids.begin(), mc.generation.eos_token_ids.end());

  e->pool = std::make_unique<ThreadPool>(o.threads);
  e->decoder = std::make_unique<TextDecoder>(mc.text, e->model->weights, e->pool.get());
  *out = std::move(e);
  return ApiOk();
}

}  // namespace g3n::api
