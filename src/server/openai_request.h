// Parsing and validating the bodies of POST /v1/chat/completions and /v1/completions. Every
// rejection names the parameter at fault. Accepted extensions (as llama-server and vLLM name
// them): top_k, min_p, repetition_penalty, ignore_eos (the model's end tokens do not stop the
// answer: fixed-length answers for benchmarks), and return_token_ids, which adds the ids of the
// prompt and of the answer to the response (choices[i].token_ids / prompt_token_ids), and
// submodel: the MatFormer sub-model to answer with (also reachable as model "<id>:<name>").
// frequency_penalty / presence_penalty / user / logit_bias {} are accepted and ignored.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.h"

namespace g3n::server {

struct MediaPart {
  bool image = true;  // else audio
  std::string bytes;  // the file, decoded from base64
  std::string path;   // or a local file (file:// URL or absolute path), read if the server allows
};

struct ChatTurn {
  std::string role;  // "system", "user", "assistant"
  std::string text;
  std::vector<MediaPart> media;  // image_url (data URLs) and input_audio parts, in order
};

struct CompletionRequest {
  bool chat = false;
  std::vector<ChatTurn> messages;  // chat
  std::string prompt_text;         // completions: a string prompt ...
  std::vector<int32_t> prompt_ids; // ... or token ids
  bool prompt_is_ids = false;
  std::string model;
  std::string submodel;
  bool stream = false;
  bool include_usage = false;
  bool return_token_ids = false;
  bool ignore_eos = false;
  std::optional<int> max_tokens;
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int> top_k;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
};

// Returns the error, or nullopt with *out filled.
std::optional<ApiError> ParseChatRequest(std::string_view body, CompletionRequest* out);
std::optional<ApiError> ParseCompletionRequest(std::string_view body, CompletionRequest* out);

// Deepest array/object nesting in a JSON text (strings skipped); the parser's stack and the
// value's destructor grow with it, so bodies are refused past a small limit before parsing.
int JsonNestingDepth(std::string_view text);

}  // namespace g3n::server
