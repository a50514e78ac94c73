#include "server/openai_request.h"

#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "server/base64.h"
#include "tokenizer/chat_template.h"

namespace g3n::server {
namespace {

using json = nlohmann::json;

constexpr int kMaxDepth = 32;
constexpr size_t kMaxStops = 16;

ApiError Bad(std::string param, std::string message, std::string code = "") {
  return ApiError{400, std::move(message), std::move(param), std::move(code), ""};
}

ApiError Unsupported(std::string param, std::string message) {
  return Bad(std::move(param), std::move(message), "unsupported_parameter");
}

const char* TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "invalid";
    default: return "a number";
  }
}

std::optional<ApiError> Parse(std::string_view body, json* out) {
  if (JsonNestingDepth(body) > kMaxDepth)
    return Bad("", "request body nests deeper than " + std::to_string(kMaxDepth) + " levels");
  *out = json::parse(body, nullptr, false);
  if (out->is_discarded()) return Bad("", "request body is not valid JSON");
  if (!out->is_object()) return Bad("", std::string("request body must be a JSON object, not ") + TypeName(*out));
  return std::nullopt;
}

std::optional<ApiError> GetBool(const json& j, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return Bad(key, std::string("'") + key + "' must be a boolean, not " + TypeName(*it));
  *out = it->get<bool>();
  return std::nullopt;
}

std::optional<ApiError> GetNumber(const json& j, const char* key, double lo, double hi, std::optional<double>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return Bad(key, std::string("'") + key + "' must be a number, not " + TypeName(*it));
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi))
    return Bad(key, std::string("'") + key + "' must lie in [" + json(lo).dump() + ", " + json(hi).dump() + "]");
  *out = v;
  return std::nullopt;
}

std::optional<ApiError> GetInt(const json& j, const char* key, long long lo, long long hi, std::optional<int>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) return Bad(key, std::string("'") + key + "' must be an integer, not " + TypeName(*it));
  // Unsigned JSON integers beyond long long saturate (they are out of range anyway).
  const long long v = it->is_number_unsigned()
                          ? static_cast<long long>(std::min<uint64_t>(it->get<uint64_t>(), uint64_t{1} << 62))
                          : it->get<long long>();
  if (v < lo || v > hi)
    return Bad(key, std::string("'") + key + "' must lie in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  *out = static_cast<int>(v);
  return std::nullopt;
}

// Fields both endpoints share.
std::optional<ApiError> ParseCommon(const json& j, CompletionRequest* r) {
  auto m = j.find("model");
  if (m != j.end() && !m->is_null()) {
    if (!m->is_string()) return Bad("model", std::string("'model' must be a string, not ") + TypeName(*m));
    r->model = m->get<std::string>();
  }
  auto sm = j.find("submodel");
  if (sm != j.end() && !sm->is_null()) {
    if (!sm->is_string()) return Bad("submodel", std::string("'submodel' must be a string, not ") + TypeName(*sm));
    r->submodel = sm->get<std::string>();
  }
  if (auto e = GetBool(j, "stream", &r->stream)) return e;
  if (auto e = GetBool(j, "return_token_ids", &r->return_token_ids)) return e;
  if (auto e = GetBool(j, "ignore_eos", &r->ignore_eos)) return e;
  auto so = j.find("stream_options");
  if (so != j.end() && !so->is_null()) {
    if (!so->is_object()) return Bad("stream_options", "'stream_options' must be an object");
    if (auto e = GetBool(*so, "include_usage", &r->include_usage)) return e;
  }
  std::optional<int> n;
  if (auto e = GetInt(j, "n", 1, 128, &n)) return e;
  if (n && *n != 1) return Unsupported("n", "only n = 1 is supported");
  std::optional<int> max_tokens, max_completion;
  if (auto e = GetInt(j, "max_tokens", 1, 1 << 30, &max_tokens)) return e;
  if (auto e = GetInt(j, "max_completion_tokens", 1, 1 << 30, &max_completion)) return e;
  r->max_tokens = max_completion ? max_completion : max_tokens;
  if (auto e = GetNumber(j, "temperature", 0, 2, &r->temperature)) return e;
  if (auto e = GetNumber(j, "top_p", 0, 1, &r->top_p)) return e;
  if (auto e = GetNumber(j, "min_p", 0, 0.999999, &r->min_p)) return e;
  if (auto e = GetNumber(j, "repetition_penalty", 0.01, 100, &r->repetition_penalty)) return e;
  if (auto e = GetInt(j, "top_k", 0, 1 << 30, &r->top_k)) return e;
  std::optional<double> ignored;
  if (auto e = GetNumber(j, "frequency_penalty", -2, 2, &ignored)) return e;
  if (auto e = GetNumber(j, "presence_penalty", -2, 2, &ignored)) return e;
  auto seed = j.find("seed");
  if (seed != j.end() && !seed->is_null()) {
    if (!seed->is_number_integer()) return Bad("seed", std::string("'seed' must be an integer, not ") + TypeName(*seed));
    r->seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : static_cast<uint64_t>(seed->get<int64_t>());
  }
  auto stop = j.find("stop");
  if (stop != j.end() && !stop->is_null()) {
    if (stop->is_string()) {
      r->stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      if (stop->size() > kMaxStops) return Bad("stop", "at most " + std::to_string(kMaxStops) + " stop strings");
      for (const json& s : *stop) {
        if (!s.is_string()) return Bad("stop", "'stop' must be a string or an array of strings");
        r->stop.push_back(s.get<std::string>());
      }
    } else {
      return Bad("stop", "'stop' must be a string or an array of strings");
    }
    for (const std::string& s : r->stop) {
      if (s.empty()) return Bad("stop", "stop strings must not be empty");
    }
  }
  auto lb = j.find("logit_bias");
  if (lb != j.end() && !lb->is_null() && !(lb->is_object() && lb->empty()))
    return Unsupported("logit_bias", "'logit_bias' is not supported");
  return std::nullopt;
}

std::optional<ApiError> ParseContent(const json& c, size_t i, ChatTurn* turn) {
  const std::string where = "messages[" + std::to_string(i) + "].content";
  if (c.is_null()) return std::nullopt;  // an assistant turn with no text
  if (c.is_string()) {
    turn->text = c.get<std::string>();
    return std::nullopt;
  }
  if (!c.is_array()) return Bad(where, "'content' must be a string or an array of content parts, not " +
                                           std::string(TypeName(c)));
  for (size_t k = 0; k < c.size(); ++k) {
    const std::string at = where + "[" + std::to_string(k) + "]";
    const json& part = c[k];
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
      return Bad(at, "a content part must be an object with a string 'type'");
    const std::string type = part["type"].get<std::string>();
    if (type == "text") {
      auto t = part.find("text");
      if (t == part.end() || !t->is_string()) return Bad(at, "a text part needs a string 'text'");
      // The chat template trims each text item and joins them as they are.
      turn->text += TrimPythonWhitespace(t->get<std::string>());
    } else if (type == "image_url") {
      // {"image_url": {"url": "data:image/png;base64,..."}} (or the url as a bare string).
      const json* u = part.contains("image_url") ? &part["image_url"] : nullptr;
      if (u != nullptr && u->is_object() && u->contains("url")) u = &(*u)["url"];
      if (u == nullptr || !u->is_string()) return Bad(at, "an image_url part needs 'image_url': {'url': ...}");
      const std::string url = u->get<std::string>();
      if (url.rfind("file://", 0) == 0 || url.rfind("/", 0) == 0) {
        turn->media.push_back(MediaPart{true, "", url.rfind("file://", 0) == 0 ? url.substr(7) : url});
        continue;
      }
      if (url.rfind("data:", 0) != 0)
        return Bad(at + ".image_url.url",
                   "only data URLs (data:image/...;base64,...) and local files are accepted; the server fetches nothing",
                   "unsupported_content");
      auto bytes = DecodeDataUrl(url);
      if (!bytes || bytes->empty()) return Bad(at + ".image_url.url", "the data URL is not valid base64");
      turn->media.push_back(MediaPart{true, std::move(*bytes), ""});
    } else if (type == "input_audio") {
      const json* a = part.contains("input_audio") ? &part["input_audio"] : nullptr;
      if (a == nullptr || !a->is_object() || !a->contains("data") || !(*a)["data"].is_string())
        return Bad(at, "an input_audio part needs 'input_audio': {'data': BASE64, 'format': 'wav'|'mp3'|'flac'}");
      auto bytes = DecodeBase64((*a)["data"].get<std::string>());
      if (!bytes || bytes->empty()) return Bad(at + ".input_audio.data", "'data' is not valid base64");
      turn->media.push_back(MediaPart{false, std::move(*bytes), ""});
    } else {
      return Bad(at, "unknown content part type '" + type + "'", "unsupported_content");
    }
  }
  return std::nullopt;
}

}  // namespace

int JsonNestingDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

std::optional<ApiError> ParseChatRequest(std::string_view body, CompletionRequest* r) {
  json j;
  if (auto e = Parse(body, &j)) return e;
  r->chat = true;
  if (auto e = ParseCommon(j, r)) return e;
  bool logprobs = false;
  if (auto e = GetBool(j, "logprobs", &logprobs)) return e;
  if (logprobs) return Unsupported("logprobs", "'logprobs' is not supported");
  auto tools = j.find("tools");
  if (tools != j.end() && !tools->is_null() && !(tools->is_array() && tools->empty()))
    return Unsupported("tools", "tool calling is not supported");
  if (j.contains("functions") && !j["functions"].is_null())
    return Unsupported("functions", "function calling is not supported");
  auto rf = j.find("response_format");
  if (rf != j.end() && !rf->is_null()) {
    if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
      return Bad("response_format", "'response_format' must be an object with a string 'type'");
    const std::string type = (*rf)["type"].get<std::string>();
    if (type != "text")
      return Unsupported("response_format", "response_format '" + type +
                                                "' is not supported yet (constrained decoding is not implemented)");
  }
  auto msgs = j.find("messages");
  if (msgs == j.end()) return Bad("messages", "'messages' is required");
  if (!msgs->is_array()) return Bad("messages", std::string("'messages' must be an array, not ") + TypeName(*msgs));
  if (msgs->empty()) return Bad("messages", "'messages' must not be empty");
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return Bad(where, "each message must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return Bad(where + ".role", "each message needs a string 'role'");
    ChatTurn turn;
    turn.role = role->get<std::string>();
    if (turn.role == "developer") turn.role = "system";
    if (turn.role == "tool" || turn.role == "function")
      return Unsupported(where + ".role", "'" + turn.role + "' messages are not supported (no tool calling)");
    if (turn.role != "system" && turn.role != "user" && turn.role != "assistant")
      return Bad(where + ".role", "unknown role '" + turn.role + "' (system, developer, user, assistant)");
    auto tc = m.find("tool_calls");
    if (tc != m.end() && !tc->is_null() && !(tc->is_array() && tc->empty()))
      return Unsupported(where + ".tool_calls", "tool calls are not supported");
    auto content = m.find("content");
    if (content == m.end() && turn.role != "assistant") return Bad(where + ".content", "'content' is required");
    if (content != m.end()) {
      if (auto e = ParseContent(*content, i, &turn)) return e;
    }
    r->messages.push_back(std::move(turn));
  }
  return std::nullopt;
}

std::optional<ApiError> ParseCompletionRequest(std::string_view body, CompletionRequest* r) {
  json j;
  if (auto e = Parse(body, &j)) return e;
  if (auto e = ParseCommon(j, r)) return e;
  bool echo = false;
  if (auto e = GetBool(j, "echo", &echo)) return e;
  if (echo) return Unsupported("echo", "'echo' is not supported");
  if (j.contains("suffix") && !j["suffix"].is_null()) return Unsupported("suffix", "'suffix' is not supported");
  if (j.contains("logprobs") && !j["logprobs"].is_null()) return Unsupported("logprobs", "'logprobs' is not supported");
  std::optional<int> best_of;
  if (auto e = GetInt(j, "best_of", 1, 128, &best_of)) return e;
  if (best_of && *best_of != 1) return Unsupported("best_of", "only best_of = 1 is supported");

  auto p = j.find("prompt");
  if (p == j.end() || p->is_null()) return Bad("prompt", "'prompt' is required");
  const json* prompt = &*p;
  // A batch of one prompt is that prompt.
  if (prompt->is_array() && prompt->size() == 1 && ((*prompt)[0].is_string() || (*prompt)[0].is_array()))
    prompt = &(*prompt)[0];
  if (prompt->is_string()) {
    r->prompt_text = prompt->get<std::string>();
    if (r->prompt_text.empty()) return Bad("prompt", "'prompt' must not be empty");
    return std::nullopt;
  }
  if (!prompt->is_array())
    return Bad("prompt", "'prompt' must be a string or an array of token ids, not " + std::string(TypeName(*prompt)));
  if (prompt->empty()) return Bad("prompt", "'prompt' must not be empty");
  for (const json& id : *prompt) {
    if (id.is_string() || id.is_array()) return Unsupported("prompt", "batches of several prompts are not supported");
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      return Bad("prompt", "token ids must be non-negative integers");
    r->prompt_ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
  }
  r->prompt_is_ids = true;
  return std::nullopt;
}

}  // namespace g3n::server
