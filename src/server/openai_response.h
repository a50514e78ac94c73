// The JSON bodies the OpenAI endpoints answer with: whole completions, SSE chunks (chat:
// "chat.completion.chunk" with deltas; completions: "text_completion" with text), usage, and
// the llama-server style "timings" extension the web page reads tokens/s from.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace g3n::server {

struct ResponseMeta {
  std::string id;     // "chatcmpl-..." / "cmpl-..."
  long long created;  // unix seconds
  std::string model;
  bool chat = true;
  bool token_ids = false;             // return_token_ids
  std::vector<int32_t> prompt_ids;    // sent with the first chunk / the whole reply
};

// One finished generation.
struct Reply {
  std::string text;
  std::vector<int32_t> ids;
  std::string finish_reason = "stop";  // "stop" or "length"
  int prompt_tokens = 0;     // the whole prompt
  int cached_tokens = 0;     // of which came from the prefix cache
  int completion_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

ResponseMeta NewMeta(bool chat, const std::string& model);

std::string CompletionJson(const ResponseMeta& m, const Reply& r);
// A chunk with new text (and its ids when asked); the first chat chunk also names the role.
std::string ChunkJson(const ResponseMeta& m, std::string_view text, const std::vector<int32_t>& ids, bool first);
std::string FinalChunkJson(const ResponseMeta& m, const Reply& r);
std::string UsageChunkJson(const ResponseMeta& m, const Reply& r);
// "data: <json>\n\n"
std::string SseEvent(const std::string& json);

}  // namespace g3n::server
