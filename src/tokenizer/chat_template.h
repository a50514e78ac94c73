// The Gemma 3n chat format: the IT checkpoints' Jinja chat template (a copy is in
// tests/tokenizer/gemma3n_chat_template.jinja) rendered exactly as transformers renders it, and
// the processor's expansion of media placeholders. In short:
//   <bos><start_of_turn>user\n{system + "\n\n"}{content}<end_of_turn>\n<start_of_turn>model\n...
// * A leading system message is not a turn: its text (untrimmed; for list content, the first
//   item's text) plus "\n\n" opens the first turn.
// * The remaining roles must alternate: user at even turns, anything else at odd turns, else
//   an error. "assistant" is written "model"; other roles are written as given.
// * String content and text items are trimmed (Python str.strip whitespace); an image item is
//   <image_soft_token> and an audio item <audio_soft_token>, items concatenated as is.
// * ExpandMedia then replaces every <image_soft_token> with
//   "\n\n<start_of_image>" + 256 x <image_soft_token> + "<end_of_image>\n\n" and every
//   <audio_soft_token> with the same around <start_of_audio>, 188 x <audio_soft_token>,
//   <end_of_audio> (transformers' Gemma3nProcessor). The result is tokenized without another
//   <bos>; "\n" runs there merge with their neighbours, so ids come from tokenizing the string.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/status.h"

namespace g3n {

struct ChatItem {
  enum class Type { kText, kImage, kAudio };
  Type type = Type::kText;
  std::string text;  // kText only
};

struct ChatMessage {
  std::string role;           // "system", "user", "assistant" (or another role, written as is)
  bool is_list = false;       // content was a list of items (else a plain string)
  std::string text;           // plain-string content
  std::vector<ChatItem> items;  // list content

  static ChatMessage Text(std::string role, std::string text) {
    return ChatMessage{std::move(role), false, std::move(text), {}};
  }
  static ChatMessage Items(std::string role, std::vector<ChatItem> items) {
    return ChatMessage{std::move(role), true, "", std::move(items)};
  }
};

// The template's output: "<bos>..." with one placeholder token per media item.
Result<std::string> RenderChat(const std::vector<ChatMessage>& messages, bool add_generation_prompt);

// One turn to append to a conversation whose earlier turns are already in the KV cache:
// "<start_of_turn>{role}\n{content}<end_of_turn>\n" (+ "<start_of_turn>model\n"), rendered as
// the template renders that turn (the system prefix only applies to the first turn).
Result<std::string> RenderTurn(const ChatMessage& message, bool add_generation_prompt);

// The processor's placeholder expansion (see above); counts are per image / per audio clip.
std::string ExpandMedia(std::string_view rendered, int image_tokens = 256, int audio_tokens = 188);

// Render + expand + tokenize (no extra <bos>). Fails if the text itself contains media
// placeholders, which would not match the media items (the processor raises there too).
// `media_tokens` = soft tokens per image and per audio clip (the model's; Gemma 3n: 256, 188).
struct MediaTokenCounts {
  int image = 256;
  int audio = 188;
};
Result<std::vector<int32_t>> EncodeChat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                                        bool add_generation_prompt, MediaTokenCounts media_tokens = {});

// RenderTurn + expand + tokenize: the ids of one more turn for a conversation in the KV cache.
Result<std::vector<int32_t>> EncodeTurn(const Tokenizer& tokenizer, const ChatMessage& message,
                                        bool add_generation_prompt, MediaTokenCounts media_tokens = {});

// Messages in the transformers form: [{"role": ..., "content": "text" | [{"type": "text",
// "text": ...}, {"type": "image"}, {"type": "audio"}]}]. Items of other types are kept out,
// as the template ignores them.
Result<std::vector<ChatMessage>> ChatFromJson(const std::string& json_text);
std::string ChatToJson(const std::vector<ChatMessage>& messages);

// Python's str.strip() (what Jinja's trim filter calls): Unicode whitespace at both ends.
std::string_view TrimPythonWhitespace(std::string_view s);

}  // namespace g3n
