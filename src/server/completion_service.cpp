#include "server/completion_service.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <nlohmann/json.hpp>

#include "audio/audio_clips.h"
#include "audio/audio_decode.h"
#include "audio/wav_writer.h"
#include "model/published_submodels.h"
#include "server/openai_response.h"
#include "server/stop_strings.h"

namespace g3n::server {
namespace {

using Clock = std::chrono::steady_clock;

// What the token callback works with.
struct Generation {
  ResponseWriter* w;
  const ResponseMeta* meta;
  Watchdog::Watch* watch;
  bool stream;
  StopMatcher stops;
  std::string text;
  std::vector<int32_t> ids;
  bool first_chunk = true;
  bool write_failed = false;

  // Sends a chunk when there is something to say (text, or ids when they were asked for).
  bool Emit(std::string_view piece, const std::vector<int32_t>& piece_ids, bool force = false) {
    if (!stream || (!force && piece.empty() && !(meta->token_ids && !piece_ids.empty()))) return true;
    const bool first = first_chunk;
    first_chunk = false;
    if (!w->Write(SseEvent(ChunkJson(*meta, piece, piece_ids, first)))) write_failed = true;
    return !write_failed;
  }
};

int OnToken(void* user, int32_t id, const char* text, size_t len) {
  auto* g = static_cast<Generation*>(user);
  if (g->watch->verdict != Watchdog::kRunning) return 1;
  if (g->stops.stopped()) return 1;
  const std::string out = g->stops.Push(std::string_view(text, len));
  std::vector<int32_t> piece_ids;
  if (id >= 0) {
    g->ids.push_back(id);
    piece_ids.push_back(id);
  }
  g->text += out;
  if (!g->Emit(out, piece_ids)) return 1;
  return g->stops.stopped() ? 1 : 0;
}

// Always answers (the HTTP layer needs an answer even for a client that left).
void SendError(ResponseWriter& w, const ApiError& e) { w.Send(ErrorResponse(e)); }

ApiError Busy(const std::string& why) { return ApiError{503, why, "", "server_busy", ""}; }

// A request's watch (client gone, time limit) for as long as the request runs.
struct Watched {
  Watched(Watchdog& d, ResponseWriter& w, double timeout_s) : dog(d) {
    watch.gone = [&w] { return w.PeerGone(); };
    watch.deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
    dog.Add(&watch);
  }
  ~Watched() { dog.Remove(&watch); }
  Watchdog& dog;
  Watchdog::Watch watch;
};

}  // namespace

CompletionService::CompletionService(g3n_model* model, std::string model_id, ServiceLimits limits)
    : model_(model),
      model_id_(std::move(model_id)),
      limits_(limits),
      admission_(std::max(1, limits.max_concurrent), std::max(0, limits.queue)),
      pool_(model, limits.cache_sessions > 0 ? std::max(limits.cache_sessions, limits.max_concurrent)
                                             : 2 * std::max(1, limits.max_concurrent)) {
  g3n_model_get_info(model_, &info_);
  for (size_t i = 0; const char* name = g3n_model_sub_model_name(model_, i); ++i) sub_models_.emplace_back(name);
}

bool CompletionService::Variant(const CompletionRequest& rq, std::string* variant, ApiError* error) const {
  std::string want = rq.submodel;
  const char* field = "submodel";
  if (want.empty() && !rq.model.empty() && rq.model != model_id_) {
    // "<id>:<name>" or a bare published name; any other model name is ignored (one model per server).
    const std::string prefix = model_id_ + ":";
    if (rq.model.compare(0, prefix.size(), prefix) == 0) want = rq.model.substr(prefix.size());
    else if (!CanonicalSubModelName(rq.model).empty()) want = rq.model;
    field = "model";
  }
  if (want.empty()) return true;
  const std::string canonical = CanonicalSubModelName(want);
  if (std::find(sub_models_.begin(), sub_models_.end(), canonical) == sub_models_.end()) {
    std::string names;
    for (const std::string& n : sub_models_) {
      if (!names.empty()) names += ", ";
      names += n;
    }
    *error = ApiError{400,
                      "sub-model '" + want + "' is not available for this model" +
                          (names.empty() ? std::string(" (it has no MatFormer sub-models)") : "; available: " + names),
                      field, "model_not_found", ""};
    return false;
  }
  *variant = canonical;
  return true;
}

ServiceStats CompletionService::stats() const {
  ServiceStats s;
  s.active = admission_.active();
  s.queued = admission_.queued();
  s.served = served_;
  s.rejected_busy = rejected_busy_;
  s.cancelled = cancelled_;
  return s;
}

void CompletionService::Shutdown() {
  admission_.Shutdown();
  watchdog_.CancelAll();
}

bool CompletionService::Tokenize(const CompletionRequest& rq, std::vector<int32_t>* ids, ApiError* error) const {
  if (rq.prompt_is_ids) {
    for (int32_t id : rq.prompt_ids) {
      if (id >= info_.vocab_size) {
        *error = ApiError{400, "token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                   std::to_string(info_.vocab_size) + ")", "prompt", "", ""};
        return false;
      }
    }
    *ids = rq.prompt_ids;
    return true;
  }
  std::vector<g3n_message> msgs;
  size_t bytes = rq.prompt_text.size();
  for (const ChatTurn& t : rq.messages) {
    msgs.push_back(g3n_message{t.role.c_str(), t.text.c_str()});
    bytes += t.text.size() + t.role.size();
  }
  // Byte fallback gives at most one id per byte; the template adds a few per turn.
  ids->resize(bytes + 16 * msgs.size() + 16);
  for (int attempt = 0; attempt < 2; ++attempt) {
    size_t n = 0;
    const g3n_status st =
        rq.chat ? g3n_chat_tokenize(model_, msgs.data(), msgs.size(), 1, ids->data(), ids->size(), &n)
                : g3n_tokenize(model_, rq.prompt_text.data(), rq.prompt_text.size(), 1, ids->data(), ids->size(), &n);
    if (st == G3N_ERR_BUFFER_TOO_SMALL) {
      ids->resize(n);
      continue;
    }
    if (st != G3N_OK) {
      *error = ApiError{400, g3n_last_error(), rq.chat ? "messages" : "prompt", "", ""};
      if (st == G3N_ERR_NO_TOKENIZER) error->message += " (send token ids to /v1/completions)";
      return false;
    }
    ids->resize(n);
    return true;
  }
  *error = ApiError{500, "tokenization did not settle", "", "", ""};
  return false;
}

g3n_generate_options CompletionService::Options(const CompletionRequest& rq, int max_new) const {
  g3n_generate_options go;
  g3n_generate_options_init(model_, &go);
  go.max_new_tokens = max_new;
  if (rq.temperature) {
    go.temperature = static_cast<float>(*rq.temperature);
    go.greedy = *rq.temperature == 0.0 ? 1 : 0;
  }
  if (rq.top_p) {
    if (*rq.top_p == 0.0) {
      go.greedy = 1;  // only the most likely token is left
    } else {
      go.top_p = static_cast<float>(*rq.top_p);
    }
  }
  if (rq.top_k) go.top_k = *rq.top_k;
  if (rq.min_p) go.min_p = static_cast<float>(*rq.min_p);
  if (rq.repetition_penalty) go.repetition_penalty = static_cast<float>(*rq.repetition_penalty);
  go.ignore_eos = rq.ignore_eos ? 1 : 0;
  // Without a seed every request samples differently, as OpenAI's API does.
  go.seed = rq.seed ? *rq.seed : (static_cast<uint64_t>(std::random_device{}()) << 32 | std::random_device{}());
  return go;
}

void CompletionService::Transcribe(const std::string& audio, const std::string& translate_to,
                                   const std::string& format, ResponseWriter& w) {
  if (format != "json" && format != "text" && format != "verbose_json")
    return SendError(w, ApiError{400, "response_format must be json, text or verbose_json", "response_format", "", ""});
  auto decoded = DecodeAudioMemory(audio.data(), audio.size(), {}, "file");
  if (!decoded.ok()) return SendError(w, ApiError{400, decoded.status().message(), "file", "", ""});
  if (decoded->samples.empty()) return SendError(w, ApiError{400, "the audio file holds no samples", "file", "", ""});
  Watched watched(watchdog_, w, limits_.timeout_s);
  Watchdog::Watch& watch = watched.watch;
  if (admission_.Enter(watch.deadline, [&] { return watch.verdict != Watchdog::kRunning; }) !=
      Admission::Outcome::kAdmitted) {
    ++rejected_busy_;
    return SendError(w, Busy("server busy or shutting down"));
  }
  struct Leave {
    Admission& a;
    ~Leave() { a.Leave(); }
  } leave{admission_};
  SessionPool::Lease lease;
  ApiError err;
  if (!pool_.AcquireEmpty("", &lease, &err)) return SendError(w, err);
  const std::string ask = TranscriptionPrompt(translate_to);
  g3n_generate_options go;
  g3n_generate_options_init(model_, &go);
  go.greedy = 1;
  go.max_new_tokens = limits_.max_tokens;
  using json = nlohmann::json;
  json segments = json::array();
  std::string text;
  double start = 0.0;
  const auto clips = SplitIntoClips(decoded->samples);
  for (size_t i = 0; i < clips.size(); ++i) {
    const double end = start + static_cast<double>(clips[i].size()) / kAudioSampleRate;
    const std::vector<uint8_t> wav = EncodeWavF32(clips[i], kAudioSampleRate);
    std::string piece;
    g3n_session_reset(lease.session);
    g3n_status st = g3n_session_add_audio(lease.session, wav.data(), wav.size());
    if (st == G3N_OK) st = g3n_session_add_message(lease.session, "user", ask.c_str());
    watchdog_.SetSession(&watch, lease.session);
    if (st == G3N_OK)
      st = g3n_session_generate(lease.session, &go, [](void* u, int32_t, const char* t, size_t n) {
        static_cast<std::string*>(u)->append(t, n);
        return 0;
      }, &piece, nullptr);
    watchdog_.SetSession(&watch, nullptr);
    if (st != G3N_OK) {
      const std::string why = g3n_last_error();
      g3n_session_reset(lease.session);
      pool_.Release(lease);
      return SendError(w, ApiError{st == G3N_ERR_UNSUPPORTED || st == G3N_ERR_INVALID_ARGUMENT ? 400 : 500, why, "file", "", ""});
    }
    while (!piece.empty() && (piece.back() == '\n' || piece.back() == ' ')) piece.pop_back();
    segments.push_back({{"id", i}, {"start", start}, {"end", end}, {"text", piece}});
    if (!text.empty() && !piece.empty()) text += ' ';
    text += piece;
    start = end;
  }
  g3n_session_reset(lease.session);
  pool_.Release(lease);
  ++served_;
  HttpResponse r;
  if (format == "text") {
    r.content_type = "text/plain; charset=utf-8";
    r.body = text + "\n";
  } else {
    json j = {{"text", text}};
    if (format == "verbose_json") {
      j["task"] = translate_to.empty() ? "transcribe" : "translate";
      j["duration"] = decoded->seconds();
      j["segments"] = segments;
    }
    r.content_type = "application/json";
    r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  w.Send(r);
}

bool CompletionService::MediaBytes(const MediaPart& m, std::string* bytes, ApiError* error) const {
  if (m.path.empty()) {
    *bytes = m.bytes;
    return true;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = limits_.media_dir.empty() ? fs::path() : fs::weakly_canonical(limits_.media_dir, ec);
  const fs::path file = fs::weakly_canonical(m.path, ec);
  const auto rel = dir.empty() ? fs::path() : file.lexically_relative(dir);
  if (dir.empty() || rel.empty() || *rel.begin() == "..") {
    *error = ApiError{400,
                      "local file '" + m.path + "' is not served" +
                          (dir.empty() ? std::string(" (start the server with --media-dir DIR to allow files under DIR)")
                                       : " (outside --media-dir " + dir.string() + ")"),
                      "image_url", "unsupported_content", ""};
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    *error = ApiError{400, "cannot read local file '" + m.path + "'", "image_url", "", ""};
    return false;
  }
  bytes->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

bool CompletionService::BuildMediaPrompt(const CompletionRequest& rq, g3n_session* s, std::vector<int32_t>* prompt,
                                         ApiError* error) const {
  for (size_t i = 0; i < rq.messages.size(); ++i) {
    const ChatTurn& t = rq.messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    for (const MediaPart& m : t.media) {
      std::string local;
      if (!MediaBytes(m, &local, error)) return false;
      const g3n_status st = m.image ? g3n_session_add_image(s, local.data(), local.size())
                                    : g3n_session_add_audio(s, local.data(), local.size());
      if (st != G3N_OK) {
        *error = ApiError{400, g3n_last_error(), where + ".content", "unsupported_content", ""};
        return false;
      }
    }
    if (g3n_session_add_message(s, t.role.c_str(), t.text.c_str()) != G3N_OK) {
      *error = ApiError{400, g3n_last_error(), where, "", ""};
      return false;
    }
  }
  size_t n = 0;
  if (g3n_session_get_tokens(s, nullptr, 0, &n) == G3N_ERR_BUFFER_TOO_SMALL) {
    prompt->resize(n);
    g3n_session_get_tokens(s, prompt->data(), n, &n);
  }
  prompt->resize(n);
  return true;
}

void CompletionService::Handle(const CompletionRequest& rq, ResponseWriter& w) {
  std::vector<int32_t> prompt;
  ApiError err;
  // Images and audio are placed by the session itself (their placeholders, their rows), so such
  // prompts are built inside a fresh session below instead of tokenized here.
  const bool media = std::any_of(rq.messages.begin(), rq.messages.end(), [](const ChatTurn& t) { return !t.media.empty(); });
  if (!media && !Tokenize(rq, &prompt, &err)) return SendError(w, err);
  std::string variant;
  if (!Variant(rq, &variant, &err)) return SendError(w, err);
  const auto too_long = [&](int n) {
    return ApiError{400,
                    "This model's maximum context length is " + std::to_string(info_.context) +
                        " tokens. However, your prompt resulted in " + std::to_string(n) +
                        " tokens, leaving no room for an answer.",
                    rq.chat ? "messages" : "prompt", "context_length_exceeded", ""};
  };
  if (static_cast<int>(prompt.size()) + 1 > info_.context) return SendError(w, too_long(static_cast<int>(prompt.size())));

  Watched watched(watchdog_, w, limits_.timeout_s);
  Watchdog::Watch& watch = watched.watch;

  switch (admission_.Enter(watch.deadline, [&] { return watch.verdict != Watchdog::kRunning; })) {
    case Admission::Outcome::kAdmitted: break;
    case Admission::Outcome::kQueueFull:
      ++rejected_busy_;
      return SendError(w, Busy("server busy: " + std::to_string(limits_.max_concurrent) + " requests running and " +
                               std::to_string(limits_.queue) + " queued; retry later"));
    case Admission::Outcome::kTimedOut:
      ++rejected_busy_;
      return SendError(w, Busy("server busy: the request waited in the queue past its time limit"));
    case Admission::Outcome::kShutdown: return SendError(w, Busy("server is shutting down"));
    case Admission::Outcome::kAbandoned:
      ++cancelled_;
      w.set_close();
      return SendError(w, ApiError{400, "client closed the connection", "", "", ""});
  }
  struct Leave {
    Admission& a;
    ~Leave() { a.Leave(); }
  } leave{admission_};

  SessionPool::Lease lease;
  if (media) {
    if (!pool_.AcquireEmpty(variant, &lease, &err)) return SendError(w, err);
    if (!BuildMediaPrompt(rq, lease.session, &prompt, &err) ||
        (static_cast<int>(prompt.size()) + 1 > info_.context && (err = too_long(static_cast<int>(prompt.size())), true))) {
      g3n_session_reset(lease.session);
      pool_.Release(lease);
      return SendError(w, err);
    }
  } else if (!pool_.Acquire(prompt, variant, &lease, &err)) {
    return SendError(w, err);
  }
  const int n = static_cast<int>(prompt.size());
  int max_new = std::min(limits_.max_tokens, info_.context - n);
  if (rq.max_tokens) max_new = std::min(max_new, *rq.max_tokens);

  ResponseMeta meta = NewMeta(rq.chat, model_id_);
  meta.token_ids = rq.return_token_ids;
  if (meta.token_ids) meta.prompt_ids = prompt;
  Generation g{&w, &meta, &watch, rq.stream, StopMatcher(rq.stop), {}, {}, true, false};
  if (rq.stream) {
    w.BeginStream(200, "text/event-stream", {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}});
    if (meta.chat) g.Emit("", {}, /*force=*/true);  // the role chunk comes first, as OpenAI sends it
  }
  const g3n_generate_options go = Options(rq, max_new);
  g3n_generate_result result{};
  watchdog_.SetSession(&watch, lease.session);
  const g3n_status st = g3n_session_generate(lease.session, &go, OnToken, &g, &result);
  const std::string failure = st == G3N_OK ? "" : g3n_last_error();
  watchdog_.Remove(&watch);  // no cancel reaches the session once it is back in the pool
  pool_.Release(lease);

  if (!g.stops.stopped()) {
    const std::string tail = g.stops.Flush();
    g.text += tail;
    g.Emit(tail, {});
  }
  const int verdict = watch.verdict;
  if (verdict == Watchdog::kClientGone || g.write_failed) {
    ++cancelled_;
    w.set_close();
    if (!rq.stream) return SendError(w, ApiError{400, "client closed the connection", "", "", ""});
    w.End();
    return;
  }
  if (st != G3N_OK) {
    const ApiError e{500, "generation failed: " + failure, "", "", ""};
    if (!rq.stream) return SendError(w, e);
    w.Write(SseEvent(ErrorJson(e)));
    w.Write("data: [DONE]\n\n");
    w.End();
    return;
  }

  Reply reply;
  reply.text = std::move(g.text);
  reply.ids = std::move(g.ids);
  const bool stopped = g.stops.stopped() || result.finish_reason == G3N_FINISH_STOP;
  reply.finish_reason = stopped ? "stop" : "length";  // budget, context, time limit, shutdown
  reply.prompt_tokens = n;
  reply.cached_tokens = result.cached_tokens;
  reply.completion_tokens = result.generated_tokens;
  reply.prefill_seconds = result.prefill_seconds;
  reply.decode_seconds = result.decode_seconds;
  ++served_;
  if (!rq.stream) {
    HttpResponse r;
    r.body = CompletionJson(meta, reply);
    w.Send(r);
    return;
  }
  w.Write(SseEvent(FinalChunkJson(meta, reply)));
  if (rq.include_usage) w.Write(SseEvent(UsageChunkJson(meta, reply)));
  w.Write("data: [DONE]\n\n");
  w.End();
}

}  // namespace g3n::server
