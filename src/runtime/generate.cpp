#include "runtime/generate.h"

#include <algorithm>

#include "util/sysinfo.h"

namespace g3n {
namespace {
double Now() { return NowSeconds(); }
}  // namespace

Status Prefill(const TextDecoder& model, Session& session, const std::vector<int32_t>& tokens, int chunk,
               std::vector<float>* last_logits) {
  const int T = static_cast<int>(tokens.size());
  if (T == 0) return Error("prompt is empty");
  if (session.pos + T > session.capacity)
    return Error("prompt of " + std::to_string(T) + " tokens does not fit the context (" +
                 std::to_string(session.capacity - session.pos) + " positions left of " +
                 std::to_string(session.capacity) + "); raise --ctx or shorten the prompt");
  chunk = std::max(1, std::min(chunk, session.max_chunk));
  const int vocab = model.config().vocab_size;
  if (last_logits != nullptr) last_logits->resize(vocab);
  for (int b = 0; b < T; b += chunk) {
    const int n = std::min(chunk, T - b);
    const bool last = b + n == T;
    std::vector<int> rows;
    if (last && last_logits != nullptr) rows.push_back(n - 1);
    G3N_RETURN_IF_ERROR(model.Forward(session, tokens.data() + b, n, rows,
                                      rows.empty() ? nullptr : last_logits->data()));
  }
  return Status();
}

Status Generate(const TextDecoder& model, Session& session, const std::vector<int32_t>& prompt,
                const GenerateOptions& opt, const std::function<bool(int32_t)>& on_token, std::vector<int32_t>* out,
                GenerateStats* stats) {
  GenerateStats st;
  st.prompt_tokens = static_cast<int>(prompt.size());
  std::vector<float> logits;
  double t0 = Now();
  G3N_RETURN_IF_ERROR(Prefill(model, session, prompt, opt.prefill_chunk, &logits));
  st.prefill_seconds = Now() - t0;

  Sampler sampler(opt.sampling);
  std::vector<int32_t> history = prompt;
  const int vocab = model.config().vocab_size;
  t0 = Now();
  for (int i = 0; i < opt.max_new_tokens; ++i) {
    const int32_t next = sampler.Sample(logits.data(), vocab, history);
    if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), next) != opt.stop_ids.end()) break;
    history.push_back(next);
    if (out != nullptr) out->push_back(next);
    ++st.generated_tokens;
    if (on_token && !on_token(next)) break;
    if (i + 1 == opt.max_new_tokens) break;
    if (session.pos >= session.capacity) break;  // context full: stop cleanly
    const std::vector<int> rows{0};
    G3N_RETURN_IF_ERROR(model.Forward(session, &next, 1, rows, logits.data()));
  }
  st.decode_seconds = Now() - t0;
  if (stats != nullptr) *stats = st;
  return Status();
}

}  // namespace g3n
