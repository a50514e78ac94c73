// gemma3n run: generate from a prompt, streaming tokens as they come, then one stats line.
// Built on the C API: one model, one session.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "cli/api_model.h"
#include "cli/common.h"
#include "util/sysinfo.h"

namespace g3n::cli {
namespace {

// Streams text (or ids when the prompt was given as ids) to stdout.
int PrintToken(void* as_ids, int32_t id, const char* text, size_t len) {
  if (*static_cast<bool*>(as_ids)) {
    if (id >= 0) std::printf("%d ", id);
  } else {
    std::fwrite(text, 1, len, stdout);
  }
  std::fflush(stdout);
  return 0;
}

// The prompt into the session: --prompt TEXT through the tokenizer (with --chat as one user
// turn of the chat template, else with <bos> unless --no-bos), or --tokens as they are.
Status AddPrompt(const Args& args, g3n_model* model, g3n_session* s) {
  g3n_status st = G3N_OK;
  const std::vector<std::string> images = args.GetAll("image"), audio = args.GetAll("audio");
  G3N_RETURN_IF_ERROR(AttachMedia(s, images, audio));
  // Images and audio go into a user turn of the chat template: they imply --chat.
  if (args.Has("prompt") && (args.Has("chat") || !images.empty() || !audio.empty())) {
    st = g3n_session_add_message(s, "user", args.Get("prompt").c_str());
  } else if (args.Has("prompt")) {
    const std::string text = args.Get("prompt");
    std::vector<int32_t> ids(text.size() + 2);
    size_t n = 0;
    st = g3n_tokenize(model, text.data(), text.size(), args.Has("no-bos") ? 0 : 1, ids.data(), ids.size(), &n);
    if (st == G3N_OK) st = g3n_session_add_tokens(s, ids.data(), n);
  } else if (args.Has("tokens")) {
    G3N_ASSIGN_OR_RETURN(std::vector<int32_t> ids, ParseTokenList(args.Get("tokens")));
    st = g3n_session_add_tokens(s, ids.data(), ids.size());
  } else {
    return Error("--prompt TEXT or --tokens 2,106,... is required");
  }
  return st == G3N_OK ? Status() : ApiFailure(st);
}

}  // namespace

int RunCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "submodel", "tokens", "prompt", "n", "temp", "top-k", "top-p", "min-p",
                               "repeat-penalty", "seed", "greedy", "ctx", "t", "threads", "chunk", "kv-type",
                               "tokenizer", "chat", "no-bos", "image", "audio", "text-only", "mmproj", "encoder-type", "memory-limit"});
  if (!st.ok()) return Fail(st);
  if (!args.Has("prompt") && !args.Has("tokens")) return Fail(Error("--prompt TEXT or --tokens 2,106,... is required"));
  auto m = LoadApiModel(args);
  if (!m.ok()) return Fail(m.status());
  g3n_model* model = (*m)->model;
  auto go = GenerateOptionsFromArgs(args, model, 128);
  if (!go.ok()) return Fail(go.status());

  auto owned = NewSession(model);
  if (!owned.ok()) return Fail(owned.status());
  g3n_session* session = owned->get();
  st = AddPrompt(args, model, session);
  if (!st.ok()) return Fail(st);
  bool as_ids = !args.Has("prompt");
  g3n_generate_result r{};
  const g3n_status gs = g3n_session_generate(session, &*go, PrintToken, &as_ids, &r);
  std::printf("\n");
  std::fflush(stdout);
  if (gs == G3N_ERR_CONTEXT_FULL) return Fail(Error(ApiFailure(gs).message() + "; --ctx N allows a larger context"));
  if (gs != G3N_OK) return Fail(ApiFailure(gs));
  std::fprintf(stderr,
               "[prompt %d tokens, prefill %.1f tok/s | generated %d tokens, decode %.1f tok/s | load %.2f s | "
               "peak RSS %.1f MiB]\n",
               r.prompt_tokens, r.prompt_tokens / std::max(r.prefill_seconds, 1e-9), r.generated_tokens,
               r.generated_tokens > 1 ? (r.generated_tokens - 1) / std::max(r.decode_seconds, 1e-9) : 0.0,
               (*m)->load_seconds, PeakRssBytes() / 1048576.0);
  return 0;
}

}  // namespace g3n::cli
