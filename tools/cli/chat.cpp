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

#include "cli/api_model.h"
#include "cli/common.h"
#include "tokenizer/chat_template.h"

namespace g3n::cli {

namespace {

std::atomic<bool> g_interrupted{false};
void OnInterrupt(int) { g_interrupted = true; }

// One conversation on one C API session. `messages_` mirrors it as text for /save and for
// rebuilding the session after a turn that did not fit.
class Chat {
 public:
  Chat(g3n_session* session, const g3n_generate_options& go, std::vector<ChatMessage> opening)
      : s_(session), go_(go), opening_(std::move(opening)) {}

  Status Reset() { return Replace(opening_); }

  Status UserTurn(const std::string& text) {
    G3N_RETURN_IF_ERROR(Add(ChatMessage::Text("user", text)));
    return Respond();
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
    G3N_RETURN_IF_ERROR(Replace(msgs));
    std::fprintf(stderr, "[loaded %zu messages from %s]\n", messages_.size(), path.c_str());
    if (messages_.empty() || messages_.back().role != "user") return Status();
    return Respond();
  }

 private:
  Status Add(const ChatMessage& m) {
    std::string text = m.text;
    for (const ChatItem& item : m.items) {
      if (item.type != ChatItem::Type::kText)
        return Error("a " + m.role + " message holds an image or audio item: chat takes text only for now");
      text += item.text;
    }
    const g3n_status st = g3n_session_add_message(s_, m.role.c_str(), text.c_str());
    if (st != G3N_OK) return ApiFailure(st);
    messages_.push_back(m);
    return Status();
  }

  Status Replace(const std::vector<ChatMessage>& msgs) {
    g3n_session_reset(s_);
    messages_.clear();
    for (const ChatMessage& m : msgs) G3N_RETURN_IF_ERROR(Add(m));
    return Status();
  }

  struct Reply {
    std::string text;
  };
  static int OnToken(void* user, int32_t, const char* text, size_t len) {
    std::fwrite(text, 1, len, stdout);
    std::fflush(stdout);
    static_cast<Reply*>(user)->text.append(text, len);
    return g_interrupted.load() ? 1 : 0;
  }

  Status Respond() {
    g_interrupted = false;
    Reply reply;
    g3n_generate_result r{};
    const g3n_status st = g3n_session_generate(s_, &go_, OnToken, &reply, &r);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    if (st != G3N_OK) {
      // The turn is dropped and the session rebuilt from the text of the earlier turns (a failed
      // forward leaves the cache in an unknown state; a turn that did not fit stays pending).
      const Status why = ApiFailure(st);
      std::vector<ChatMessage> keep = messages_;
      if (!keep.empty() && keep.back().role == "user") keep.pop_back();
      G3N_RETURN_IF_ERROR(Replace(keep));
      if (st == G3N_ERR_CONTEXT_FULL)
        return Error("context full: " + why.message() + "; the turn was dropped (/reset starts over, --ctx N allows more)");
      return Error(why.message() + " (the turn was dropped)");
    }
    messages_.push_back(ChatMessage::Text("assistant", reply.text));
    if (r.finish_reason == G3N_FINISH_CALLBACK || r.finish_reason == G3N_FINISH_CANCELLED)
      std::fprintf(stderr, "[stopped]\n");
    if (r.finish_reason == G3N_FINISH_CONTEXT)
      std::fprintf(stderr, "[context full: the answer was cut; /reset starts over]\n");
    std::fprintf(stderr, "[%d prompt tokens, %d generated, %.1f tok/s]\n", r.prompt_tokens, r.generated_tokens,
                 r.generated_tokens > 1 ? (r.generated_tokens - 1) / std::max(r.decode_seconds, 1e-9) : 0.0);
    return Status();
  }

  g3n_session* s_;
  g3n_generate_options go_;
  std::vector<ChatMessage> opening_;  // the --system message, if any
  std::vector<ChatMessage> messages_;
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
               "  /image FILE   attach an image (JPEG, PNG, WebP, BMP, GIF) to your next message\n"
               "  /audio FILE   attach audio (WAV, FLAC, MP3, Ogg) to your next message\n"
               "  /exit         quit (so does Ctrl-D); Ctrl-C stops the current answer\n");
}

}  // namespace

int ChatCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "submodel", "tokenizer", "system", "n", "temp", "top-k", "top-p", "min-p",
                               "repeat-penalty", "seed", "greedy", "ctx", "t", "threads", "chunk", "kv-type",
                               "text-only", "mmproj", "encoder-type", "memory-limit"});
  if (!st.ok()) return Fail(st);
  auto m = LoadApiModel(args);
  if (!m.ok()) return Fail(m.status());
  g3n_model* model = (*m)->model;
  auto go = GenerateOptionsFromArgs(args, model, 1024);
  if (!go.ok()) return Fail(go.status());
  // The model's turn ends with <end_of_turn>: a stop id even where generation_config.json
  // does not list it.
  int32_t end_of_turn = -1;
  size_t n = 0;
  if (g3n_tokenize(model, "<end_of_turn>", 13, 0, &end_of_turn, 1, &n) != G3N_OK)
    return Fail(Error(std::string("chat needs a tokenizer: ") + g3n_last_error()));
  go->stop_ids = &end_of_turn;
  go->num_stop_ids = 1;
  auto owned = NewSession(model);
  if (!owned.ok()) return Fail(owned.status());
  g3n_session* session = owned->get();
  g3n_model_info info{};
  g3n_model_get_info(model, &info);

  std::vector<ChatMessage> opening;
  if (args.Has("system")) opening.push_back(ChatMessage::Text("system", args.Get("system")));
  Chat chat(session, *go, opening);
  st = chat.Reset();
  if (!st.ok()) return Fail(st);

  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a Ctrl-C at the prompt interrupts the read
  sigaction(SIGINT, &sa, nullptr);

  std::fprintf(stderr, "[gemma3n chat: %d positions of context; /help for commands]\n", info.context);
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
      turn = chat.Reset();
      if (turn.ok()) std::fprintf(stderr, "[new conversation]\n");
    } else if (line.rfind("/save ", 0) == 0) {
      turn = chat.Save(line.substr(6));
    } else if (line.rfind("/load ", 0) == 0) {
      turn = chat.Load(line.substr(6));
    } else if (line.rfind("/image ", 0) == 0 || line.rfind("/audio ", 0) == 0) {
      const bool image = line[1] == 'i';
      const std::string path = line.substr(7);
      turn = AttachMedia(session, image ? std::vector<std::string>{path} : std::vector<std::string>{},
                         image ? std::vector<std::string>{} : std::vector<std::string>{path});
      if (turn.ok()) std::fprintf(stderr, "[%s attached to your next message]\n", path.c_str());
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
