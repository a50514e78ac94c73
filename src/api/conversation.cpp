#include "api/conversation.h"

#include <algorithm>
#include <mutex>
#include <optional>

#include "api/kv_rewind.h"
#include "runtime/sampler.h"
#include "tokenizer/streaming_decoder.h"
#include "util/sysinfo.h"

namespace g3n::api {
namespace {

ApiStatus CheckOptions(const g3n_generate_options& o) {
  if (o.max_new_tokens < 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "max_new_tokens must be >= 0");
  if (!o.greedy && !(o.temperature >= 0))
    return ApiError(G3N_ERR_INVALID_ARGUMENT, "temperature must be >= 0");
  if (!(o.top_p > 0 && o.top_p <= 1)) return ApiError(G3N_ERR_INVALID_ARGUMENT, "top_p must lie in (0, 1]");
  if (!(o.min_p >= 0 && o.min_p < 1)) return ApiError(G3N_ERR_INVALID_ARGUMENT, "min_p must lie in [0, 1)");
  if (!(o.repetition_penalty > 0)) return ApiError(G3N_ERR_INVALID_ARGUMENT, "repetition_penalty must be > 0");
  if (o.top_k < 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "top_k must be >= 0");
  if (o.num_stop_ids > 0 && o.stop_ids == nullptr)
    return ApiError(G3N_ERR_INVALID_ARGUMENT, "stop_ids is NULL but num_stop_ids > 0");
  return ApiOk();
}

SamplingParams ToSampling(const g3n_generate_options& o) {
  SamplingParams p;
  p.greedy = o.greedy != 0 || o.temperature <= 0.0f;
  p.temperature = o.temperature;
  p.top_k = o.top_k;
  p.top_p = o.top_p;
  p.min_p = o.min_p;
  p.repetition_penalty = o.repetition_penalty;
  p.seed = o.seed;
  return p;
}

// Clears a flag when the scope ends, whichever way it ends.
struct ClearOnExit {
  std::atomic<bool>& flag;
  ~ClearOnExit() { flag = false; }
};

}  // namespace

Conversation::Conversation(const Engine& engine, const TextDecoder& decoder)
    : e_(engine), dec_(decoder), session_(decoder.NewSession(engine.session)) {}

void Conversation::Reset() {
  session_.pos = 0;  // keeps the cache memory; every row is written again before it is read
  fed_.clear();
  pending_.clear();
  opening_.clear();
  attached_.clear();
  placing_.clear();
  soft_rows_.clear();
  turns_ = 0;
  raw_ = open_turn_ = reply_open_ = false;
}

ApiStatus Conversation::AddMessage(const std::string& role, const std::string& text) {
  ApiStatus st = e_.NeedTokenizer();
  if (!st.ok()) return st;
  if (role.empty()) return ApiError(G3N_ERR_INVALID_ARGUMENT, "message role is empty");
  ChatMessage m = ChatMessage::Text(role, text);
  if (!attached_.empty()) {
    if (role != "user")
      return ApiError(G3N_ERR_INVALID_ARGUMENT, "images and audio attach to a user message, not to '" + role + "'");
    std::vector<ChatItem> items;
    for (const auto& b : attached_) items.push_back(ChatItem{b->image ? ChatItem::Type::kImage : ChatItem::Type::kAudio, ""});
    if (!text.empty()) items.push_back(ChatItem{ChatItem::Type::kText, text});
    m = ChatMessage::Items(role, std::move(items));
  }
  if (fed_.empty() && pending_.empty() && !raw_) {
    if (role == "system" && !opening_.empty())
      return ApiError(G3N_ERR_INVALID_ARGUMENT, "a system message may only open the conversation");
    std::vector<ChatMessage> all = opening_;
    all.push_back(m);
    auto ids = EncodeChat(*e_.tokenizer, all, false, e_.media->token_counts());  // checks roles and placeholders now
    if (!ids.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, ids.status().message());
    opening_ = std::move(all);
    placing_.insert(placing_.end(), attached_.begin(), attached_.end());
    attached_.clear();
    open_turn_ = true;
    return ApiOk();
  }
  if (role == "system") return ApiError(G3N_ERR_INVALID_ARGUMENT, "a system message may only open the conversation");
  if (!raw_ && (role == "user") != (turns_ % 2 == 0))
    return ApiError(G3N_ERR_INVALID_ARGUMENT, "conversation roles must alternate user/assistant/user/...; turn " +
                                                  std::to_string(turns_ + 1) + " cannot be '" + role + "'");
  auto ids = EncodeTurn(*e_.tokenizer, m, false, e_.media->token_counts());
  if (!ids.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, ids.status().message());
  const size_t from = pending_.size();
  if (reply_open_) pending_.insert(pending_.end(), e_.close_turn.begin(), e_.close_turn.end());
  pending_.insert(pending_.end(), ids->begin(), ids->end());
  placing_.insert(placing_.end(), attached_.begin(), attached_.end());
  attached_.clear();
  st = PlaceMedia(from, /*whole=*/true);
  if (!st.ok()) {
    pending_.resize(from);
    return st;
  }
  reply_open_ = false;
  ++turns_;
  open_turn_ = true;
  return ApiOk();
}

ApiStatus Conversation::FlushOpening() {
  if (opening_.empty()) return ApiOk();
  auto ids = EncodeChat(*e_.tokenizer, opening_, false, e_.media->token_counts());
  if (!ids.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, ids.status().message());
  const size_t from = pending_.size();
  pending_.insert(pending_.end(), ids->begin(), ids->end());
  ApiStatus st = PlaceMedia(from, /*whole=*/true);
  if (!st.ok()) {
    pending_.resize(from);
    opening_.clear();
    placing_.clear();
    return st;
  }
  turns_ = static_cast<int>(std::count_if(opening_.begin(), opening_.end(),
                                          [](const ChatMessage& m) { return m.role != "system"; }));
  opening_.clear();
  return ApiOk();
}

ApiStatus Conversation::AddTokens(const int32_t* ids, size_t n) {
  if (n > 0 && ids == nullptr) return ApiError(G3N_ERR_INVALID_ARGUMENT, "ids is NULL");
  const int vocab = dec_.config().vocab_size;
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab)
      return ApiError(G3N_ERR_INVALID_ARGUMENT, "token id " + std::to_string(ids[i]) + " at index " +
                                                    std::to_string(i) + " is outside the vocabulary [0, " +
                                                    std::to_string(vocab) + ")");
  }
  ApiStatus st = FlushOpening();
  if (!st.ok()) return st;
  const size_t from = pending_.size();
  pending_.insert(pending_.end(), ids, ids + n);
  placing_.insert(placing_.end(), attached_.begin(), attached_.end());
  attached_.clear();
  st = PlaceMedia(from, /*whole=*/false);
  if (!st.ok()) {
    pending_.resize(from);
    return st;
  }
  raw_ = true;
  open_turn_ = reply_open_ = false;
  return ApiOk();
}

ApiStatus Conversation::Tokens(std::vector<int32_t>* out) {
  ApiStatus st = FlushOpening();
  if (!st.ok()) return st;
  out->assign(fed_.begin(), fed_.end());
  out->insert(out->end(), pending_.begin(), pending_.end());
  return ApiOk();
}

void Conversation::Rewind(size_t n) {
  if (CanRewind(session_, dec_.config().sliding_window, static_cast<int>(n))) {
    session_.pos = static_cast<int>(n);
    fed_.resize(n);
    return;
  }
  // Too far back for a sliding-window ring: start the cache over and feed the kept ids again.
  pending_.insert(pending_.begin(), fed_.begin(), fed_.begin() + static_cast<long>(n));
  fed_.clear();
  session_.pos = 0;
}

ApiStatus Conversation::Truncate(size_t n) {
  ApiStatus st = FlushOpening();
  if (!st.ok()) return st;
  const size_t total = fed_.size() + pending_.size();
  if (n > total)
    return ApiError(G3N_ERR_INVALID_ARGUMENT, "cannot truncate a conversation of " + std::to_string(total) +
                                                  " tokens to " + std::to_string(n));
  soft_rows_.erase(soft_rows_.lower_bound(n), soft_rows_.end());
  if (n >= fed_.size()) {
    pending_.resize(n - fed_.size());
  } else {
    pending_.clear();
    Rewind(n);
  }
  raw_ = true;
  open_turn_ = reply_open_ = false;
  return ApiOk();
}

ApiStatus Conversation::Feed(std::vector<float>* logits, bool* stopped) {
  const int vocab = dec_.config().vocab_size;
  const size_t chunk = static_cast<size_t>(std::max(1, session_.max_chunk));
  size_t done = 0;
  Status st;
  while (done < pending_.size() && st.ok()) {
    if (cancelled()) {
      *stopped = true;
      break;
    }
    const size_t n = std::min(chunk, pending_.size() - done);
    const bool last = done + n == pending_.size();
    std::vector<int> rows;
    if (last) rows.push_back(static_cast<int>(n) - 1);
    logits->resize(vocab);
    EmbeddingOverrides media;
    std::vector<float> media_rows;
    ApiStatus ms = Overrides(done, n, &media, &media_rows);
    if (!ms.ok()) {
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(done));
      return ms;
    }
    {
      std::lock_guard<FairLock> step(e_.step_lock);
      st = dec_.Forward(session_, pending_.data() + done, static_cast<int>(n), rows, last ? logits->data() : nullptr,
                        nullptr, media.rows.empty() ? nullptr : &media);
    }
    if (!st.ok()) break;
    fed_.insert(fed_.end(), pending_.begin() + static_cast<long>(done), pending_.begin() + static_cast<long>(done + n));
    done += n;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(done));
  if (st.ok()) return ApiOk();
  // The cache may hold part of a chunk: start it over; the conversation's ids are all kept.
  pending_.insert(pending_.begin(), fed_.begin(), fed_.end());
  fed_.clear();
  session_.pos = 0;
  return ApiError(G3N_ERR_INTERNAL, st.message());
}

ApiStatus Conversation::AddImage(const void* data, size_t size) {
  if (data == nullptr || size == 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "image: no bytes");
  auto b = std::make_shared<MediaBlock>();
  ApiStatus st = e_.media->EncodeImage(data, size, &b->rows);
  if (!st.ok()) return st;
  b->count = static_cast<int>(b->rows.size() / static_cast<size_t>(e_.media->hidden()));
  attached_.push_back(std::move(b));
  return ApiOk();
}

ApiStatus Conversation::AddAudio(const void* data, size_t size) {
  if (data == nullptr || size == 0) return ApiError(G3N_ERR_INVALID_ARGUMENT, "audio: no bytes");
  std::vector<std::vector<float>> clips;
  ApiStatus st = e_.media->EncodeAudio(data, size, &clips);
  if (!st.ok()) return st;
  for (std::vector<float>& c : clips) {
    auto b = std::make_shared<MediaBlock>();
    b->image = false;
    b->count = static_cast<int>(c.size() / static_cast<size_t>(e_.media->hidden()));
    b->rows = std::move(c);
    attached_.push_back(std::move(b));
  }
  return ApiOk();
}

ApiStatus Conversation::PlaceMedia(size_t from, bool whole) {
  const Media& m = *e_.media;
  for (size_t i = from; i < pending_.size(); ++i) {
    const int32_t id = pending_[i];
    const bool image = m.IsImageSoftToken(id);
    if (!image && !m.IsAudioSoftToken(id)) continue;
    while (!placing_.empty() && placing_.front()->used == placing_.front()->count) placing_.pop_front();
    if (placing_.empty() || placing_.front()->image != image) {
      placing_.clear();
      return ApiError(G3N_ERR_INVALID_ARGUMENT, std::string("the prompt has an ") +
                                                    (image ? "<image_soft_token>" : "<audio_soft_token>") +
                                                    " at position " + std::to_string(fed_.size() + i) +
                                                    " with no " + (image ? "image" : "audio clip") + " left to fill it");
    }
    MediaBlock& b = *placing_.front();
    soft_rows_[fed_.size() + i] = {placing_.front(), b.used++};
  }
  while (!placing_.empty() && placing_.front()->used == placing_.front()->count) placing_.pop_front();
  if (whole && !placing_.empty()) {
    placing_.clear();
    return ApiError(G3N_ERR_INVALID_ARGUMENT, "the message's images/audio do not match its placeholders");
  }
  return ApiOk();
}

ApiStatus Conversation::Overrides(size_t done, size_t n, EmbeddingOverrides* out, std::vector<float>* data) {
  Media& m = *e_.media;
  const size_t H = static_cast<size_t>(m.hidden());
  for (size_t j = 0; j < n; ++j) {
    const int32_t id = pending_[done + j];
    if (!m.IsMediaId(id)) continue;
    const float* row = nullptr;
    if (m.IsImageSoftToken(id) || m.IsAudioSoftToken(id)) {
      auto it = soft_rows_.find(fed_.size() + j);
      if (it == soft_rows_.end())
        return ApiError(G3N_ERR_INVALID_ARGUMENT, "soft token " + std::to_string(id) + " at position " +
                                                      std::to_string(fed_.size() + j) +
                                                      " has no image or audio (add it with the message)");
      row = it->second.first->rows.data() + static_cast<size_t>(it->second.second) * H;
    } else {
      ApiStatus st = m.HardRow(id, &row);
      if (!st.ok()) return st;
    }
    out->rows.push_back(static_cast<int>(j));
    data->insert(data->end(), row, row + H);
  }
  out->data = data->data();
  return ApiOk();
}

ApiStatus Conversation::Generate(const g3n_generate_options& options, const TokenSink& sink,
                                 g3n_generate_result* result) {
  if (running_.exchange(true))
    return ApiError(G3N_ERR_BUSY, "this session is already generating (one thread per session at a time)");
  ClearOnExit running{running_};
  ++epoch_;
  return GenerateLocked(options, sink, result);
}

ApiStatus Conversation::GenerateLocked(const g3n_generate_options& o, const TokenSink& sink,
                                       g3n_generate_result* result) {
  ApiStatus st = CheckOptions(o);
  if (st.ok()) st = FlushOpening();
  if (!st.ok()) return st;
  g3n_generate_result r{};
  if (pending_.empty() && !open_turn_) {
    if (fed_.empty())
      return ApiError(G3N_ERR_INVALID_ARGUMENT, "the conversation is empty: add a message or token ids first");
    // Sampling needs the logits of the last id: feed it again.
    const int32_t last = fed_.back();
    Rewind(fed_.size() - 1);
    pending_.push_back(last);
  }
  const bool chat_reply = open_turn_;
  const size_t prompt = pending_.size() + (chat_reply ? e_.open_model_turn.size() : 0);
  if (fed_.size() + prompt > static_cast<size_t>(session_.capacity))
    return ApiError(G3N_ERR_CONTEXT_FULL, "a prompt of " + std::to_string(prompt) + " tokens after " +
                                              std::to_string(fed_.size()) + " cached ones needs " +
                                              std::to_string(fed_.size() + prompt) +
                                              " positions but the context holds " +
                                              std::to_string(session_.capacity) + " tokens");
  if (chat_reply) pending_.insert(pending_.end(), e_.open_model_turn.begin(), e_.open_model_turn.end());
  open_turn_ = false;
  r.cached_tokens = static_cast<int>(fed_.size());
  r.prompt_tokens = static_cast<int>(pending_.size());

  std::vector<float> logits;
  bool stopped = false;
  double t0 = NowSeconds();
  st = Feed(&logits, &stopped);
  r.prefill_seconds = NowSeconds() - t0;
  if (!st.ok()) return st;
  if (chat_reply) {
    ++turns_;
    reply_open_ = true;
  }
  if (stopped) {
    r.finish_reason = G3N_FINISH_CANCELLED;
    if (result != nullptr) *result = r;
    return ApiOk();
  }

  std::vector<int32_t> stop_ids;
  if (!o.ignore_eos) stop_ids = e_.eos_ids;
  stop_ids.insert(stop_ids.end(), o.stop_ids, o.stop_ids + o.num_stop_ids);
  Sampler sampler(ToSampling(o));
  std::vector<int32_t> history = fed_;  // the repetition penalty looks at the whole conversation
  std::optional<StreamingDecoder> text;
  if (e_.tokenizer) text.emplace(*e_.tokenizer, /*skip_special=*/true);
  const int vocab = dec_.config().vocab_size;
  r.finish_reason = G3N_FINISH_LENGTH;  // also for max_new_tokens == 0
  t0 = NowSeconds();
  // The loop of runtime/generate.cpp's Generate, step by step, so that a step can wait for the
  // model's lock and a cancel can land between steps; the same sampler calls in the same order
  // give the same ids as the CLI for the same seed.
  for (int i = 0; i < o.max_new_tokens; ++i) {
    const int32_t next = sampler.Sample(logits.data(), vocab, history);
    if (std::find(stop_ids.begin(), stop_ids.end(), next) != stop_ids.end()) {
      r.finish_reason = G3N_FINISH_STOP;
      break;
    }
    history.push_back(next);
    pending_.push_back(next);
    ++r.generated_tokens;
    const std::string piece = text ? text->Push(next) : std::string();
    if (sink && !sink(next, piece)) {
      r.finish_reason = G3N_FINISH_CALLBACK;
      break;
    }
    if (i + 1 == o.max_new_tokens) break;
    if (cancelled()) {
      r.finish_reason = G3N_FINISH_CANCELLED;
      break;
    }
    if (session_.pos >= session_.capacity) {
      r.finish_reason = G3N_FINISH_CONTEXT;
      break;
    }
    st = Feed(&logits, &stopped);
    if (!st.ok()) return st;
    if (stopped) {
      r.finish_reason = G3N_FINISH_CANCELLED;
      break;
    }
  }
  r.decode_seconds = NowSeconds() - t0;
  if (text) {
    const std::string tail = text->Flush();
    if (!tail.empty() && sink) sink(-1, tail);
  }
  if (result != nullptr) *result = r;
  return ApiOk();
}

}  // namespace g3n::api
