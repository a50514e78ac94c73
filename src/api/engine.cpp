#include "api/engine.h"

#include <algorithm>
#include <filesystem>

#include "model/memory_need.h"
#include "model/published_submodels.h"
#include "model/weight_store.h"
#include "tokenizer/gemma3n_tokens.h"

namespace g3n::api {
namespace {

namespace fs = std::filesystem;

ApiStatus CheckOptions(const g3n_model_options& o) {
  if (o.threads < 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "threads must be >= 0 (0 = all hardware threads)");
  if (o.context < 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "context must be >= 0 (0 = default)");
  if (o.prefill_chunk < 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "prefill_chunk must be >= 0 (0 = 128)");
  if (o.memory_limit_mb < 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "memory_limit_mb must be >= 0 (0 = none)");
  return ApiOk();
}

// Special-token text encoded with the model's tokenizer (no <bos>).
std::vector<int32_t> Ids(const Tokenizer& t, std::string_view text) { return t.Encode(text, false); }

// The map key: published names in canonical spelling, anything else (a spec file) as given.
std::string VariantKey(const std::string& choice) {
  const std::string canonical = CanonicalSubModelName(choice);
  return canonical.empty() ? choice : canonical;
}

}  // namespace

ApiStatus Engine::GetVariant(const std::string& sub_model, const Variant** out) const {
  const std::string key = VariantKey(sub_model.empty() ? default_sub_model : sub_model);
  std::lock_guard<std::mutex> lock(variants_mu_);
  auto it = variants_.find(key);
  if (it != variants_.end()) {
    *out = it->second.get();
    return ApiOk();
  }
  auto v = std::make_unique<Variant>();
  v->name = key;
  if (key.empty()) {
    v->decoder = std::make_unique<TextDecoder>(model->config.text, model->weights, pool.get());
  } else {
    auto sub = ApplySubModelFromArgs(*model, key);
    if (!sub.ok()) {
      const std::string why = sub.status().message();
      return ApiError(G3N_ERR_INVALID_ARGUMENT,
                      why.find(key) != std::string::npos ? why : "sub-model '" + key + "': " + why);
    }
    v->sub = std::make_unique<SubModel>(std::move(*sub));
    v->decoder = std::make_unique<TextDecoder>(v->sub->config, v->sub->weights, pool.get());
  }
  *out = v.get();
  variants_.emplace(key, std::move(v));
  return ApiOk();
}

ApiStatus Engine::ReserveSessionMemory(const Variant& v, uint64_t* bytes) const {
  const MemoryNeed need = SessionNeed(v.sub ? v.sub->config : model->config.text, session);
  const Status st = memory.Reserve("a session", need);
  if (!st.ok()) return ApiError(G3N_ERR_OUT_OF_MEMORY, st.message());
  *bytes = need.resident;
  return ApiOk();
}

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
  e->session.max_chunk = o.prefill_chunk > 0 ? o.prefill_chunk : kDefaultPrefillChunk;
  auto kv = ParseKvType(o.kv_type != nullptr ? o.kv_type : "f16");
  if (!kv.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, kv.status().message());
  e->session.kv_type = *kv;

  // A folder's tokenizer.json, a GGUF file's tokenizer.ggml.* metadata, or --tokenizer DIR.
  const fs::path p(path);
  std::error_code ec;
  const bool own = o.tokenizer != nullptr && o.tokenizer[0] != '\0';
  const std::string tok_dir = own ? std::string(o.tokenizer) : path;
  const bool gguf_vocab = !own && fs::is_regular_file(p, ec) && e->model->from_gguf &&
                          e->model->gguf.Find("tokenizer.ggml.tokens") != nullptr;
  if (own || gguf_vocab || (fs::is_directory(p, ec) && fs::exists(p / "tokenizer.json", ec))) {
    auto tok = gemma3n::LoadTokenizer(tok_dir);
    if (!tok.ok()) return ApiError(G3N_ERR_IO, tok.status().message());
    e->tokenizer.emplace(std::move(*tok));
    e->open_model_turn = Ids(*e->tokenizer, "<start_of_turn>model\n");
    e->close_turn = Ids(*e->tokenizer, "<end_of_turn>\n");
  }
  e->name = p.filename().string();
  if (e->name.empty()) e->name = p.parent_path().filename().string();  // "dir/"
  e->eos_ids.assign(mc.generation.eos_token_ids.begin(), mc.generation.eos_token_ids.end());

  e->memory_limit = static_cast<uint64_t>(o.memory_limit_mb) << 20;
  e->pool = std::make_unique<ThreadPool>(o.threads);
  MediaOptions media;
  media.text_only = o.text_only != 0;
  if (o.towers != nullptr) media.towers = o.towers;
  auto enc = ParseEncoderWeightType(o.encoder_type != nullptr ? o.encoder_type : "");
  if (!enc.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, enc.status().message());
  media.encoder_type = *enc;
  media.ledger = &e->memory;
  if (media.text_only && !media.towers.empty())
    return ApiError(G3N_ERR_INVALID_ARGUMENT, "towers given with text_only: a text-only model never loads them");
  st = Media::Create(*e->model, e->pool.get(), media, &e->media);
  if (!st.ok()) return st;
  e->default_sub_model = o.sub_model != nullptr ? o.sub_model : "";
  const Variant* v = nullptr;
  st = e->GetVariant("", &v);
  if (!st.ok()) return st;
  e->decoder = v->decoder.get();
  e->default_sub_model_name = v->name;
  // Everything is mapped, nothing read yet: a run that cannot fit stops here, not mid-answer.
  {
    const TextConfig& tc = v->sub ? v->sub->config : mc.text;
    const TextWeights& tw = v->sub ? v->sub->weights : e->model->weights;
    const MemoryLimits limits = ReadMemoryLimits(e->memory_limit);
    const MemoryNeed need = TextRunNeed(tc, tw, e->session, e->pool->size());
    const Status fits = CheckMemory("the model", need, limits);
    if (!fits.ok()) return ApiError(G3N_ERR_OUT_OF_MEMORY, fits.message());
    // Sessions book their own share as they are created; the first always fits (checked here).
    e->memory.Init(limits, limits.rss + need.resident - SessionNeed(tc, e->session).resident);
  }
  for (const PublishedSubModel& p : PublishedSubModels()) {
    auto spec = FindPublishedSubModel(p.name);
    if (spec.ok() && PlanSubModel(mc.text, *spec).ok()) e->sub_model_names.push_back(p.name);
  }
  *out = std::move(e);
  return ApiOk();
}

}  // namespace g3n::api
