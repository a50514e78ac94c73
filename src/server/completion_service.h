// Runs OpenAI completion requests on one model: tokenizes the prompt, waits for an admission
// slot, takes the best session from the prefix cache, generates (streaming SSE chunks or
// collecting the whole answer) and answers. Client disconnects and time limits end the
// generation through the watchdog.
#pragma once
#include <atomic>
#include <string>
#include <vector>

#include "gemma3n.h"
#include "server/admission.h"
#include "server/http_server.h"
#include "server/openai_request.h"
#include "server/session_pool.h"
#include "server/watchdog.h"

namespace g3n::server {

struct ServiceLimits {
  int max_concurrent = 4;   // requests generating at once (they take turns step by step)
  int queue = 32;           // requests waiting beyond those; more get 503
  int max_tokens = 2048;    // cap on max_tokens (and the default when a request gives none)
  double timeout_s = 600;   // per request, queueing included; past it the answer is cut
  int cache_sessions = 0;   // sessions kept for the prefix cache; 0: 2 x max_concurrent
  std::string media_dir;    // image_url parts may name local files under it; empty: none
};

struct ServiceStats {
  int active = 0, queued = 0;
  uint64_t served = 0, rejected_busy = 0, cancelled = 0;
};

class CompletionService {
 public:
  CompletionService(g3n_model* model, std::string model_id, ServiceLimits limits);

  void Handle(const CompletionRequest& request, ResponseWriter& w);
  // POST /v1/audio/transcriptions (and /translations with `translate_to`): the file is decoded,
  // cut into 30 s clips, and each clip transcribed greedily in a fresh conversation.
  // `format`: "json" (default), "text" or "verbose_json" (with per-clip segments).
  void Transcribe(const std::string& audio, const std::string& translate_to, const std::string& format,
                  ResponseWriter& w);
  // Refuses new requests and cuts the running ones short.
  void Shutdown();

  const std::string& model_id() const { return model_id_; }
  const std::vector<std::string>& sub_models() const { return sub_models_; }
  const g3n_model_info& info() const { return info_; }
  const ServiceLimits& limits() const { return limits_; }
  int sessions() const { return pool_.size(); }
  ServiceStats stats() const;

 private:
  bool Tokenize(const CompletionRequest& rq, std::vector<int32_t>* ids, ApiError* error) const;
  // The sub-model a request asks for ("" = the default): its `submodel` field, or a `model` of
  // the form "<id>:<name>" or "<name>". Only the published names the model can run are valid.
  bool Variant(const CompletionRequest& rq, std::string* variant, ApiError* error) const;
  g3n_generate_options Options(const CompletionRequest& rq, int max_new) const;
  // Adds the messages with their images/audio to a reset session; *prompt gets its ids.
  // The bytes of a media part: inline, or a local file under limits_.media_dir.
  bool MediaBytes(const MediaPart& m, std::string* bytes, ApiError* error) const;
  bool BuildMediaPrompt(const CompletionRequest& rq, g3n_session* s, std::vector<int32_t>* prompt,
                        ApiError* error) const;

  g3n_model* model_;
  g3n_model_info info_{};
  std::string model_id_;
  std::vector<std::string> sub_models_;  // published sub-models the model can run
  ServiceLimits limits_;
  Admission admission_;
  SessionPool pool_;
  Watchdog watchdog_;
  std::atomic<uint64_t> served_{0}, rejected_busy_{0}, cancelled_{0};
};

}  // namespace g3n::server
