// What a g3n_session handle owns: one conversation as token ids with its own KV cache.
//
// The conversation is `fed_` (ids in the KV cache, always session_.pos of them) followed by
// `pending_` (ids added but not fed yet). Chat messages added before anything was tokenized
// wait in `opening_`, because the template folds a leading system message into the first
// user turn; they are tokenized as a whole (EncodeChat) when needed. Later messages are
// tokenized one turn at a time (EncodeTurn).
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_status.h"
#include "api/engine.h"
#include "tokenizer/chat_template.h"

namespace g3n::api {

// Returns false to stop. `id` is -1 for text held back until the end.
using TokenSink = std::function<bool(int32_t id, std::string_view text)>;

class Conversation {
 public:
  // `decoder`: the engine's variant this conversation runs on (the whole model or a sub-model).
  Conversation(const Engine& engine, const TextDecoder& decoder);

  ApiStatus AddMessage(const std::string& role, const std::string& text);
  ApiStatus AddTokens(const int32_t* ids, size_t n);
  // Encodes an image / audio file now and attaches it to the next user message (or, in raw-id
  // mode, to the next soft tokens added); audio over 30 s becomes several clips.
  ApiStatus AddImage(const void* data, size_t size);
  ApiStatus AddAudio(const void* data, size_t size);
  ApiStatus Tokens(std::vector<int32_t>* out);
  ApiStatus Truncate(size_t n);
  void Reset();
  ApiStatus Generate(const g3n_generate_options& options, const TokenSink& sink, g3n_generate_result* result);
  // Cancels the Generate running now: each Generate has its own epoch, and a cancel names the
  // epoch it saw, so a cancel that arrives after a Generate ended cannot stop the next one.
  void Cancel() { cancel_epoch_ = epoch_.load(); }

 private:
  ApiStatus FlushOpening();
  ApiStatus GenerateLocked(const g3n_generate_options& options, const TokenSink& sink, g3n_generate_result* result);
  // Forwards pending_ in prefill chunks, each moved to fed_ once the cache holds it; `logits`
  // gets the last id's row. A cancel stops it between chunks.
  ApiStatus Feed(std::vector<float>* logits, bool* stopped);
  void Rewind(size_t n);  // fed_ keeps n ids; the KV cache follows (or restarts)
  // Gives the soft tokens among pending_[from..] their rows from `placing_`, in order. With
  // `whole`, every placed item must be used up (a message's placeholders match its media).
  ApiStatus PlaceMedia(size_t from, bool whole);
  // The rows that replace token-table embeddings in pending_[done, done + n).
  ApiStatus Overrides(size_t done, size_t n, EmbeddingOverrides* out, std::vector<float>* data);

  // One image or audio clip: its soft-token rows [count, hidden].
  struct MediaBlock {
    bool image = true;
    std::vector<float> rows;
    int count = 0;
    int used = 0;  // rows already given to soft tokens
  };

  const Engine& e_;
  const TextDecoder& dec_;
  Session session_;
  std::vector<int32_t> fed_, pending_;
  std::vector<ChatMessage> opening_;
  std::vector<std::shared_ptr<MediaBlock>> attached_;  // for the next user message
  std::deque<std::shared_ptr<MediaBlock>> placing_;    // waiting for their soft tokens
  // Conversation position of each soft token -> its block and row. Kept for the whole
  // conversation: a cache restart feeds the same positions again.
  std::map<size_t, std::pair<std::shared_ptr<MediaBlock>, int>> soft_rows_;
  int turns_ = 0;             // user/model turns so far, for the template's alternation rule
  bool raw_ = false;          // raw ids were added: turn order is the caller's business
  bool open_turn_ = false;    // a message was added: the next generate opens the model's turn
  bool reply_open_ = false;   // the last generate answered a turn that is not closed yet
  bool cancelled() const { return cancel_epoch_.load() == epoch_.load(); }
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> epoch_{0}, cancel_epoch_{0};
};

}  // namespace g3n::api
