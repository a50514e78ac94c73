#include "cli/api_model.h"

#include <fstream>
#include <iterator>
#include <string>

#include "util/sysinfo.h"

namespace g3n::cli {

Status ApiFailure(g3n_status status) { return Error(std::string(g3n_last_error()) + " [" + g3n_status_name(status) + "]"); }

Result<std::unique_ptr<ModelFlags>> ModelFlagsFromArgs(const Args& args) {
  auto f = std::make_unique<ModelFlags>();
  g3n_model_options& o = f->options;
  g3n_model_options_init(&o);
  G3N_ASSIGN_OR_RETURN(o.threads, args.GetInt(args.Has("t") ? "t" : "threads", 0));
  G3N_ASSIGN_OR_RETURN(o.context, args.GetInt("ctx", 0));
  G3N_ASSIGN_OR_RETURN(o.prefill_chunk, args.GetInt("chunk", 0));
  if (args.Has("ctx") && o.context < 1) return Error("--ctx must be at least 1");
  if (args.Has("chunk") && o.prefill_chunk < 1) return Error("--chunk must be at least 1");
  G3N_ASSIGN_OR_RETURN(o.memory_limit_mb, args.GetInt("memory-limit", 0));
  if (args.Has("memory-limit") && o.memory_limit_mb < 1) return Error("--memory-limit needs a size in MiB (>= 1)");
  f->kv_type = args.Get("kv-type", "f16");
  f->sub_model = args.Get("submodel");
  f->tokenizer = args.Get("tokenizer");
  f->towers = args.Get("mmproj");
  f->encoder_type = args.Get("encoder-type");
  if (args.Has("mmproj") && f->towers.empty()) return Error("--mmproj needs a Hugging Face checkpoint folder");
  o.kv_type = f->kv_type.c_str();
  o.sub_model = f->sub_model.c_str();
  o.tokenizer = f->tokenizer.empty() ? nullptr : f->tokenizer.c_str();
  o.towers = f->towers.empty() ? nullptr : f->towers.c_str();
  o.encoder_type = f->encoder_type.c_str();
  o.text_only = args.Has("text-only") ? 1 : 0;
  return f;
}

Result<std::unique_ptr<ApiModel>> LoadApiModel(const Args& args) {
  if (!args.Has("model"))
    return Error("--model is required (a Hugging Face Gemma 3n checkpoint folder or a .gguf file)");
  G3N_ASSIGN_OR_RETURN(std::unique_ptr<ModelFlags> flags, ModelFlagsFromArgs(args));
  const g3n_model_options& o = flags->options;
  auto m = std::make_unique<ApiModel>();
  const double t0 = NowSeconds();
  const g3n_status st = g3n_model_load(args.Get("model").c_str(), &o, &m->model);
  if (st != G3N_OK) {
    const Status why = ApiFailure(st);
    if (args.Has("ctx") && why.message().find("context") != std::string::npos)
      return Error("--ctx " + args.Get("ctx") + ": " + why.message());
    return why;
  }
  m->load_seconds = NowSeconds() - t0;
  return m;
}

Result<std::vector<uint8_t>> ReadBinaryFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(path + ": cannot open");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error(path + ": read failed");
  return bytes;
}

Status AttachMedia(g3n_session* s, const std::vector<std::string>& images, const std::vector<std::string>& audio) {
  for (const auto& [paths, image] : {std::pair{&images, true}, std::pair{&audio, false}}) {
    for (const std::string& p : *paths) {
      G3N_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadBinaryFile(p));
      const g3n_status st = image ? g3n_session_add_image(s, bytes.data(), bytes.size())
                                  : g3n_session_add_audio(s, bytes.data(), bytes.size());
      if (st != G3N_OK) return Error(p + ": " + ApiFailure(st).message());
    }
  }
  return Status();
}

Result<SessionPtr> NewSession(g3n_model* model) {
  g3n_session* s = nullptr;
  if (g3n_status st = g3n_session_create(model, &s); st != G3N_OK) return ApiFailure(st);
  return SessionPtr(s, g3n_session_free);
}

Result<g3n_generate_options> GenerateOptionsFromArgs(const Args& a, const g3n_model* model, int default_n) {
  g3n_generate_options o;
  g3n_generate_options_init(model, &o);
  G3N_ASSIGN_OR_RETURN(o.max_new_tokens, a.GetInt("n", default_n));
  G3N_ASSIGN_OR_RETURN(double temp, a.GetDouble("temp", o.temperature));
  G3N_ASSIGN_OR_RETURN(o.top_k, a.GetInt("top-k", o.top_k));
  G3N_ASSIGN_OR_RETURN(double top_p, a.GetDouble("top-p", o.top_p));
  G3N_ASSIGN_OR_RETURN(double min_p, a.GetDouble("min-p", o.min_p));
  G3N_ASSIGN_OR_RETURN(double rep, a.GetDouble("repeat-penalty", o.repetition_penalty));
  G3N_ASSIGN_OR_RETURN(int seed, a.GetInt("seed", 0));
  if (o.max_new_tokens < 0) return Error("-n must be >= 0");
  if (temp < 0 || top_p <= 0 || top_p > 1 || min_p < 0 || min_p >= 1 || rep <= 0 || o.top_k < 0)
    return Error("sampling flags out of range (need temp >= 0, 0 < top-p <= 1, 0 <= min-p < 1, repeat-penalty > 0)");
  o.top_p = static_cast<float>(top_p);
  o.min_p = static_cast<float>(min_p);
  o.repetition_penalty = static_cast<float>(rep);
  o.seed = static_cast<uint64_t>(seed);
  if (a.Has("temp")) {
    o.greedy = temp == 0.0 ? 1 : 0;
    if (temp > 0) o.temperature = static_cast<float>(temp);
  }
  if (a.Has("greedy")) o.greedy = 1;
  return o;
}

}  // namespace g3n::cli
