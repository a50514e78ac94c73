#include "server/openai_response.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

namespace g3n::server {
namespace {

using json = nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json Usage(const Reply& r) {
  return {{"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", r.completion_tokens},
          {"total_tokens", r.prompt_tokens + r.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", r.cached_tokens}}}};
}

json Timings(const Reply& r) {
  const double decode_ms = r.decode_seconds * 1000.0;
  return {{"prompt_n", r.prompt_tokens - r.cached_tokens},
          {"cache_n", r.cached_tokens},
          {"prompt_ms", r.prefill_seconds * 1000.0},
          {"predicted_n", r.completion_tokens},
          {"predicted_ms", decode_ms},
          // Decode speed: the first token comes from the prefill, the rest from decode steps.
          {"predicted_per_second", r.completion_tokens > 1 && decode_ms > 0
                                       ? (r.completion_tokens - 1) / (decode_ms / 1000.0)
                                       : 0.0}};
}

json Envelope(const ResponseMeta& m, const char* object) {
  return {{"id", m.id}, {"object", object}, {"created", m.created}, {"model", m.model}, {"system_fingerprint", nullptr}};
}

}  // namespace

ResponseMeta NewMeta(bool chat, const std::string& model) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  char id[48];
  std::snprintf(id, sizeof id, "%s-%012llx%08llx", chat ? "chatcmpl" : "cmpl",
                static_cast<unsigned long long>(salt & 0xffffffffffffull),
                static_cast<unsigned long long>(counter.fetch_add(1)));
  ResponseMeta m;
  m.id = id;
  m.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  m.model = model;
  m.chat = chat;
  return m;
}

std::string CompletionJson(const ResponseMeta& m, const Reply& r) {
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", r.finish_reason}};
  if (m.chat) {
    choice["message"] = {{"role", "assistant"}, {"content", r.text}, {"refusal", nullptr}};
  } else {
    choice["text"] = r.text;
  }
  if (m.token_ids) {
    choice["token_ids"] = r.ids;
    choice["prompt_token_ids"] = m.prompt_ids;
  }
  json j = Envelope(m, m.chat ? "chat.completion" : "text_completion");
  j["choices"] = json::array({choice});
  j["usage"] = Usage(r);
  j["timings"] = Timings(r);
  return Dump(j);
}

std::string ChunkJson(const ResponseMeta& m, std::string_view text, const std::vector<int32_t>& ids, bool first) {
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
  if (m.chat) {
    json delta = {{"content", std::string(text)}};
    if (first) delta["role"] = "assistant";
    choice["delta"] = delta;
  } else {
    choice["text"] = std::string(text);
  }
  if (m.token_ids) {
    choice["token_ids"] = ids;
    if (first) choice["prompt_token_ids"] = m.prompt_ids;
  }
  json j = Envelope(m, m.chat ? "chat.completion.chunk" : "text_completion");
  j["choices"] = json::array({choice});
  return Dump(j);
}

std::string FinalChunkJson(const ResponseMeta& m, const Reply& r) {
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", r.finish_reason}};
  if (m.chat) {
    choice["delta"] = json::object();
  } else {
    choice["text"] = "";
  }
  if (m.token_ids) choice["token_ids"] = json::array();
  json j = Envelope(m, m.chat ? "chat.completion.chunk" : "text_completion");
  j["choices"] = json::array({choice});
  j["timings"] = Timings(r);
  return Dump(j);
}

std::string UsageChunkJson(const ResponseMeta& m, const Reply& r) {
  json j = Envelope(m, m.chat ? "chat.completion.chunk" : "text_completion");
  j["choices"] = json::array();
  j["usage"] = Usage(r);
  return Dump(j);
}

std::string SseEvent(const std::string& json) { return "data: " + json + "\n\n"; }

}  // namespace g3n::server
