// gemma3n chat: an interactive multi-turn conversation in the Gemma 3n chat format.
//
//   chat --model DIR [--tokenizer DIR] [--system TEXT] [-n 1024] [--temp T --top-k K --top-p P --min-p P
//        --repeat-penalty R --seed S --greedy] [--ctx N] [--chunk N] [--kv-type T] [-t THREADS]
//
// Reads one message per line from stdin (a line ending in '\' continues on the next), streams
// the answer to stdout as byte-exact UTF-8 (StreamingDecoder: never half a character), and keeps
// the KV cache across turns: a turn prefills only "<end_of_turn>\n" plus the new user turn.
// Commands: /reset, /save FILE, /load FILE (transformers-style JSON messages), /help, /exit.
// Ctrl-C stops the current answer (it is kept, cut short) and not the program; Ctrl-D quits.
// When the context is full the turn is refused with a message; /reset or a larger --ctx help.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/common.h"
#include "runtime/generate.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/streaming_decoder.h"

namespace g3n::cli {

Result<SamplingParams> SamplingFromArgs(const Args& a, const GenerationConfig& g);  // defined in run.cpp
Result<Tokenizer> TokenizerFromArgs(const Args& args);                             // defined in tokenize.cpp

namespace {

std::atomic<bool> g_interrupted{false};
void OnInterrupt(int) { g_interrupted = true; }

class Chat {
 public:
  Chat(const Engine& e, const Tokenizer& tok, const SessionOptions& so, const GenerateOptions& go,
       std::vector<ChatMessage> opening)
      : e_(e), tok_(tok), so_(so), go_(go), opening_(std::move(opening)) {
    Reset();
  }

  void Reset() {
    session_ = e_.decoder->NewSession(so_);
    messages_ = opening_;
    pending_.clear();
  }

  Status UserTurn(const std::string& text) {
    const ChatMessage m = ChatMessage::Text("user", text);
    std::vector<int32_t> prompt;
    if (session_.pos == 0 && pending_.empty()) {
      // Nothing in the cache yet: render the whole conversation (system prompt, loaded turns).
      std::vector<ChatMessage> all = messages_;
      all.push_back(m);
      G3N_ASSIGN_OR_RETURN(prompt, EncodeChat(tok_, all, /*add_generation_prompt=*/true));
    } else {
      G3N_ASSIGN_OR_RETURN(std::vector<int32_t> turn, EncodeTurn(tok_, m, /*add_generation_prompt=*/true));
      prompt = pending_;
      prompt.insert(prompt.end(), turn.begin(), turn.end());
    }
    const size_t need = static_cast<size_t>(session_.pos) + prompt.size() + 1;
    if (need > static_cast<size_t>(session_.capacity))
      return Error("context full: this turn needs " + std::to_string(prompt.size()) + " positions, " +
                   std::to_string(session_.capacity - session_.pos) + " of " + std::to_string(session_.capacity) +
                   " are left; /reset starts over, --ctx N allows more");
    messages_.push_back(m);
    return Respond(prompt);
  }

  Status Save(const std::string& path) const {
    std::ofstream out(path, std::ios::binary);
    out << ChatToJson(messages_);
    if (!out.good()) return Error(path + ": cannot write");
    std::fprintf(stderr, "[saved %zu messages to %s]\n", messages_.size(), path.c_str());
    return Status();
  }

  // Replaces the conversation. Nothing is prefilled until the next message (the whole history is
  // rendered then), unless the loaded conversation ends with a user turn, which is answered now.
  Status Load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error(path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    G3N_ASSIGN_OR_RETURN(std::vector<ChatMessage> msgs, ChatFromJson(ss.str()));
    G3N_RETURN_IF_ERROR(RenderChat(msgs, false).status());
    Reset();
    messages_ = std::move(msgs);
    std::fprintf(stderr, "[loaded %zu messages from %s]\n", messages_.size(), path.c_str());
    if (messages_.empty() || messages_.back().role != "user") return Status();
    G3N_ASSIGN_OR_RETURN(std::vector<int32_t> prompt, EncodeChat(tok_, messages_, true));
    if (prompt.size() + 1 > static_cast<size_t>(session_.capacity))
      return Error("context full: the loaded conversation needs " + std::to_string(prompt.size()) +
                   " positions of " + std::to_string(session_.capacity));
    return Respond(prompt);
  }

 private:
  Status Respond(const std::vector<int32_t>& prompt) {
    g_interrupted = false;
    StreamingDecoder stream(tok_, /*skip_special=*/true);
    const auto put = [](const std::string& s) {
      std::fwrite(s.data(), 1, s.size(), stdout);
      std::fflush(stdout);
    };
    std::vector<int32_t> out;
    GenerateStats stats;
    const int pos0 = session_.pos;
    const Status st = Generate(*e_.decoder, session_, prompt, go_,
                               [&](int32_t id) {
                                 put(stream.Push(id));
                                 return !g_interrupted.load();
                               },
                               &out, &stats);
    put(stream.Flush());
    put("\n");
    if (!st.ok()) {
      Reset();  // a failed forward leaves the cache in an unknown state
      return Error(st.message() + " (the conversation was reset)");
    }
    messages_.push_back(ChatMessage::Text("assistant", tok_.Decode(out, /*skip_special=*/true)));
    // Generated tokens the cache has not seen (the last one when the answer was cut short), then
    // the turn's close, which the model sampled as its stop token but was never fed.
    const size_t fed = static_cast<size_t>(session_.pos - pos0) - prompt.size();
    pending_.assign(out.begin() + static_cast<long>(std::min(fed, out.size())), out.end());
    const std::vector<int32_t> close = tok_.Encode("<end_of_turn>\n", false);
    pending_.insert(pending_.end(), close.begin(), close.end());
    if (g_interrupted) std::fprintf(stderr, "[stopped]\n");
    if (session_.pos >= session_.capacity)
      std::fprintf(stderr, "[context full (%d positions): the answer was cut; /reset starts over]\n",
                   session_.capacity);
    std::fprintf(stderr, "[%d prompt tokens, %d generated, %.1f tok/s]\n", stats.prompt_tokens,
                 stats.generated_tokens,
                 stats.generated_tokens > 1 ? (stats.generated_tokens - 1) / std::max(stats.decode_seconds, 1e-9)
                                            : 0.0);
    return Status();
  }

  const Engine& e_;
  const Tokenizer& tok_;
  SessionOptions so_;
  GenerateOptions go_;
  std::vector<ChatMessage> opening_;  // the --system message, if any
  Session session_;
  std::vector<ChatMessage> messages_;
  std::vector<int32_t> pending_;  // ids the cache still needs before the next user turn
};

// One input line (with '\' continuations); false at end of input. Ctrl-C at the prompt only
// prints a hint.
bool ReadMessage(std::string& out) {
  out.clear();
  char* buf = nullptr;
  size_t cap = 0;
  bool got = false;
  while (true) {
    errno = 0;
    const ssize_t n = ::getline(&buf, &cap, stdin);
    if (n < 0) {
      if (errno == EINTR) {
        clearerr(stdin);
        g_interrupted = false;
        std::fprintf(stderr, "\n(/exit or Ctrl-D quits)\n> ");
        continue;
      }
      break;
    }
    got = true;
    std::string line(buf, static_cast<size_t>(n));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (!line.empty() && line.back() == '\\') {
      line.back() = '\n';
      out += line;
      continue;
    }
    out += line;
    break;
  }
  std::free(buf);
  return got;
}

void Help() {
  std::fprintf(stderr,
               "Type a message and press Enter (end a line with \\ to continue it). Commands:\n"
               "  /reset        start a new conversation (keeps --system)\n"
               "  /save FILE    write the conversation as JSON messages\n"
               "  /load FILE    read a conversation written by /save (or transformers-style JSON)\n"
               "  /exit         quit (so does Ctrl-D); Ctrl-C stops the current answer\n");
}

}  // namespace

int ChatCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "submodel", "tokenizer", "system", "n", "temp", "top-k", "top-p", "min-p",
                               "repeat-penalty", "seed", "greedy", "ctx", "t", "threads", "chunk", "kv-type"});
  if (!st.ok()) return Fail(st);
  auto tok = TokenizerFromArgs(args);
  if (!tok.ok()) return Fail(tok.status());
  auto engine = LoadEngine(args);
  if (!engine.ok()) return Fail(engine.status());
  auto so = SessionFromArgs(args, *engine);
  if (!so.ok()) return Fail(so.status());
  const ModelConfig& mc = engine->model->config;
  auto sampling = SamplingFromArgs(args, mc.generation);
  auto n = args.GetInt("n", 1024);
  if (!sampling.ok()) return Fail(sampling.status());
  if (!n.ok()) return Fail(n.status());
  GenerateOptions go;
  go.max_new_tokens = *n;
  go.prefill_chunk = so->max_chunk;
  go.sampling = *sampling;
  go.stop_ids = mc.generation.eos_token_ids;
  const int32_t end_of_turn = tok->TokenId("<end_of_turn>");
  if (end_of_turn >= 0 && std::find(go.stop_ids.begin(), go.stop_ids.end(), end_of_turn) == go.stop_ids.end())
    go.stop_ids.push_back(end_of_turn);

  std::vector<ChatMessage> opening;
  if (args.Has("system")) opening.push_back(ChatMessage::Text("system", args.Get("system")));
  Chat chat(*engine, *tok, *so, go, opening);

  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a Ctrl-C at the prompt interrupts the read
  sigaction(SIGINT, &sa, nullptr);

  std::fprintf(stderr, "[gemma3n chat: %d positions of context; /help for commands]\n", so->capacity);
  std::string line;
  while (true) {
    std::fprintf(stderr, "> ");
    std::fflush(stderr);
    if (!ReadMessage(line)) break;
    if (line.empty()) continue;
    Status turn;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/help") {
      Help();
    } else if (line == "/reset") {
      chat.Reset();
      std::fprintf(stderr, "[new conversation]\n");
    } else if (line.rfind("/save ", 0) == 0) {
      turn = chat.Save(line.substr(6));
    } else if (line.rfind("/load ", 0) == 0) {
      turn = chat.Load(line.substr(6));
    } else if (line[0] == '/' && line.find(' ') == std::string::npos) {
      std::fprintf(stderr, "unknown command %s (/help lists them)\n", line.c_str());
    } else {
      turn = chat.UserTurn(line);
    }
    if (!turn.ok()) std::fprintf(stderr, "error: %s\n", turn.message().c_str());
  }
  std::fprintf(stderr, "\n");
  return 0;
}

}  // namespace g3n::cli
