#include "cli/common.h"

#include <algorithm>

#include "util/sysinfo.h"

namespace g3n::cli {

int Fail(const Status& st) {
  std::fprintf(stderr, "error: %s\n", st.message().c_str());
  return 1;
}

Result<Engine> LoadEngine(const Args& args) {
  if (!args.Has("model")) return Error("--model DIR is required (a Hugging Face Gemma 3n checkpoint folder)");
  G3N_ASSIGN_OR_RETURN(int threads, args.GetInt(args.Has("t") ? "t" : "threads", 0));
  Engine e;
  const double t0 = NowSeconds();
  G3N_ASSIGN_OR_RETURN(e.model, LoadModel(args.Get("model")));
  if (args.Has("submodel")) {
    G3N_ASSIGN_OR_RETURN(SubModel sub, ApplySubModelFromArgs(*e.model, args.Get("submodel")));
    e.submodel = std::make_unique<SubModel>(std::move(sub));
  }
  e.load_seconds = NowSeconds() - t0;
  e.pool = std::make_unique<ThreadPool>(threads);
  e.decoder = std::make_unique<TextDecoder>(e.text(), e.weights(), e.pool.get());
  return e;
}

Result<int> ContextSize(const Args& args, const Engine& e) {
  const int max_ctx = e.model->config.text.max_position_embeddings;
  G3N_ASSIGN_OR_RETURN(int ctx, args.GetInt("ctx", std::min(4096, max_ctx)));
  if (ctx <= 0 || ctx > max_ctx)
    return Error("--ctx " + std::to_string(ctx) + " must lie in [1, " + std::to_string(max_ctx) + "]");
  return ctx;
}

Result<SessionOptions> SessionFromArgs(const Args& args, const Engine& e) {
  SessionOptions o;
  G3N_ASSIGN_OR_RETURN(o.capacity, ContextSize(args, e));
  G3N_ASSIGN_OR_RETURN(o.max_chunk, args.GetInt("chunk", kDefaultPrefillChunk));
  if (o.max_chunk < 1) return Error("--chunk must be at least 1");
  G3N_ASSIGN_OR_RETURN(o.kv_type, ParseKvType(args.Get("kv-type", "f16")));
  return o;
}

}  // namespace g3n::cli
