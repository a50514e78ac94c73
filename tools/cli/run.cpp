// gemma3n run: generate from a prompt, streaming tokens as they come, then one stats line.
#include <cstdio>
#include <memory>

#include "cli/common.h"
#include "runtime/generate.h"
#include "tokenizer/streaming_decoder.h"
#include "util/sysinfo.h"

namespace g3n::cli {

Result<SamplingParams> SamplingFromArgs(const Args& a, const GenerationConfig& g) {
  SamplingParams p = SamplingParams::FromGeneration(g);
  G3N_ASSIGN_OR_RETURN(double temp, a.GetDouble("temp", p.temperature));
  G3N_ASSIGN_OR_RETURN(p.top_k, a.GetInt("top-k", p.top_k));
  G3N_ASSIGN_OR_RETURN(double top_p, a.GetDouble("top-p", p.top_p));
  G3N_ASSIGN_OR_RETURN(double min_p, a.GetDouble("min-p", p.min_p));
  G3N_ASSIGN_OR_RETURN(double rep, a.GetDouble("repeat-penalty", p.repetition_penalty));
  G3N_ASSIGN_OR_RETURN(int seed, a.GetInt("seed", 0));
  if (temp < 0 || top_p <= 0 || top_p > 1 || min_p < 0 || min_p >= 1 || rep <= 0 || p.top_k < 0)
    return Error("sampling flags out of range (need temp >= 0, 0 < top-p <= 1, 0 <= min-p < 1, repeat-penalty > 0)");
  p.temperature = static_cast<float>(temp);
  p.top_p = static_cast<float>(top_p);
  p.min_p = static_cast<float>(min_p);
  p.repetition_penalty = static_cast<float>(rep);
  p.seed = static_cast<uint64_t>(seed);
  if (a.Has("temp")) p.greedy = temp == 0.0;
  if (a.Has("greedy")) p.greedy = true;
  return p;
}

Result<Tokenizer> TokenizerFromArgs(const Args& args);                          // tokenize.cpp
Result<std::vector<int32_t>> PromptFromArgs(const Args& args, const Tokenizer& tok);  // tokenize.cpp

int RunCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "submodel", "tokens", "prompt", "n", "temp", "top-k", "top-p", "min-p", "repeat-penalty",
                               "seed", "greedy", "ctx", "t", "threads", "chunk", "kv-type", "tokenizer", "chat",
                               "no-bos"});
  if (!st.ok()) return Fail(st);
  // --prompt TEXT goes through the tokenizer (with --chat: as one user turn of the chat
  // template) and streams text; --tokens 2,106,... streams ids.
  std::unique_ptr<Tokenizer> tok;
  Result<std::vector<int32_t>> prompt = Error("--prompt TEXT or --tokens 2,106,... is required");
  if (args.Has("prompt")) {
    auto t = TokenizerFromArgs(args);
    if (!t.ok()) return Fail(t.status());
    tok = std::make_unique<Tokenizer>(std::move(*t));
    prompt = PromptFromArgs(args, *tok);
  } else if (args.Has("tokens")) {
    prompt = ParseTokenList(args.Get("tokens"));
  }
  if (!prompt.ok()) return Fail(prompt.status());
  auto engine = LoadEngine(args);
  if (!engine.ok()) return Fail(engine.status());
  auto session_opt = SessionFromArgs(args, *engine);
  if (!session_opt.ok()) return Fail(session_opt.status());
  const ModelConfig& mc = engine->model->config;
  GenerateOptions opt;
  auto n = args.GetInt("n", 128);
  auto sampling = SamplingFromArgs(args, mc.generation);
  if (!n.ok()) return Fail(n.status());
  if (!sampling.ok()) return Fail(sampling.status());
  opt.max_new_tokens = *n;
  opt.prefill_chunk = session_opt->max_chunk;
  opt.sampling = *sampling;
  opt.stop_ids = mc.generation.eos_token_ids;

  Session session = engine->decoder->NewSession(*session_opt);
  GenerateStats stats;
  std::unique_ptr<StreamingDecoder> text;
  if (tok) text = std::make_unique<StreamingDecoder>(*tok);
  st = Generate(*engine->decoder, session, *prompt, opt,
                [&](int32_t id) {
                  if (text) std::fputs(text->Push(id).c_str(), stdout);
                  else std::printf("%d ", id);
                  std::fflush(stdout);
                  return true;
                },
                nullptr, &stats);
  if (text) std::fputs(text->Flush().c_str(), stdout);
  std::printf("\n");
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr,
               "[prompt %d tokens, prefill %.1f tok/s | generated %d tokens, decode %.1f tok/s | load %.2f s | "
               "peak RSS %.1f MiB]\n",
               stats.prompt_tokens, stats.prompt_tokens / std::max(stats.prefill_seconds, 1e-9),
               stats.generated_tokens,
               stats.generated_tokens > 1 ? (stats.generated_tokens - 1) / std::max(stats.decode_seconds, 1e-9) : 0.0,
               engine->load_seconds, PeakRssBytes() / 1048576.0);
  return 0;
}

}  // namespace g3n::cli
