#include "tokenizer/chat_template.h"

#include <nlohmann/json.hpp>

#include "tokenizer/utf8.h"

namespace g3n {
namespace {

constexpr std::string_view kImageToken = "<image_soft_token>";
constexpr std::string_view kAudioToken = "<audio_soft_token>";

// Python's str.isspace() set (White_Space plus the four information separators).
bool IsPythonSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

void AppendContent(const ChatMessage& m, std::string& out) {
  if (!m.is_list) {
    out += TrimPythonWhitespace(m.text);
    return;
  }
  for (const ChatItem& item : m.items) {
    switch (item.type) {
      case ChatItem::Type::kText: out += TrimPythonWhitespace(item.text); break;
      case ChatItem::Type::kImage: out += kImageToken; break;
      case ChatItem::Type::kAudio: out += kAudioToken; break;
    }
  }
}

size_t Count(std::string_view s, std::string_view what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string_view::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

std::string_view TrimPythonWhitespace(std::string_view s) {
  char32_t cp = 0;
  size_t b = 0;
  while (b < s.size()) {
    const size_t n = utf8::Decode(s, b, &cp);
    if (n == 0 || !IsPythonSpace(cp)) break;
    b += n;
  }
  size_t e = s.size();
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
    if (utf8::Decode(s, start, &cp) != e - start || !IsPythonSpace(cp)) break;
    e = start;
  }
  return s.substr(b, e - b);
}

Result<std::string> RenderChat(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  if (messages.empty()) return Error("chat: no messages");
  std::string out = "<bos>";
  std::string first_prefix;
  size_t begin = 0;
  if (messages[0].role == "system") {
    const ChatMessage& sys = messages[0];
    if (!sys.is_list) {
      first_prefix = sys.text + "\n\n";
    } else {
      if (sys.items.empty() || sys.items[0].type != ChatItem::Type::kText)
        return Error("chat: the system message's first item must be text");
      first_prefix = sys.items[0].text + "\n\n";
    }
    begin = 1;
  }
  for (size_t i = begin; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const size_t turn = i - begin;
    if ((m.role == "user") != (turn % 2 == 0))
      return Error("Conversation roles must alternate user/assistant/user/assistant/...");
    out += "<start_of_turn>";
    out += m.role == "assistant" ? "model" : m.role;
    out += "\n";
    if (turn == 0) out += first_prefix;
    AppendContent(m, out);
    out += "<end_of_turn>\n";
  }
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

Result<std::string> RenderTurn(const ChatMessage& m, bool add_generation_prompt) {
  if (m.role == "system") return Error("chat: a system message can only open the conversation");
  std::string out = "<start_of_turn>";
  out += m.role == "assistant" ? "model" : m.role;
  out += "\n";
  AppendContent(m, out);
  out += "<end_of_turn>\n";
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

std::string ExpandMedia(std::string_view rendered, int image_tokens, int audio_tokens) {
  const auto sequence = [](std::string_view open, std::string_view soft, int n, std::string_view close) {
    std::string s = "\n\n";
    s += open;
    for (int i = 0; i < n; ++i) s += soft;
    s += close;
    s += "\n\n";
    return s;
  };
  const std::string image = sequence("<start_of_image>", kImageToken, image_tokens, "<end_of_image>");
  const std::string audio = sequence("<start_of_audio>", kAudioToken, audio_tokens, "<end_of_audio>");
  std::string out;
  size_t from = 0;
  while (true) {
    const size_t i = rendered.find(kImageToken, from), a = rendered.find(kAudioToken, from);
    const size_t at = std::min(i, a);
    if (at == std::string_view::npos) break;
    out.append(rendered.substr(from, at - from));
    out += at == i ? image : audio;
    from = at + (at == i ? kImageToken.size() : kAudioToken.size());
  }
  out.append(rendered.substr(from));
  return out;
}

namespace {

// Expands and tokenizes rendered text after checking that its placeholders are the messages'
// media items and nothing the user typed.
Result<std::vector<int32_t>> EncodeRendered(const Tokenizer& tokenizer, const std::string& rendered,
                                            const std::vector<const ChatMessage*>& messages, MediaTokenCounts n) {
  size_t images = 0, audios = 0;
  for (const ChatMessage* m : messages)
    for (const ChatItem& item : m->items) {
      images += item.type == ChatItem::Type::kImage;
      audios += item.type == ChatItem::Type::kAudio;
    }
  const size_t text_images = Count(rendered, kImageToken), text_audios = Count(rendered, kAudioToken);
  if (text_images != images || text_audios != audios)
    return Error("chat: the text holds " + std::to_string(text_images) + " " + std::string(kImageToken) + " and " +
                 std::to_string(text_audios) + " " + std::string(kAudioToken) + " for " + std::to_string(images) +
                 " images and " + std::to_string(audios) + " audio clips; media placeholders cannot be typed as text");
  return tokenizer.Encode(ExpandMedia(rendered, n.image, n.audio), /*add_bos=*/false);
}

}  // namespace

Result<std::vector<int32_t>> EncodeChat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                                        bool add_generation_prompt, MediaTokenCounts media_tokens) {
  G3N_ASSIGN_OR_RETURN(std::string rendered, RenderChat(messages, add_generation_prompt));
  std::vector<const ChatMessage*> all;
  for (const ChatMessage& m : messages) all.push_back(&m);
  return EncodeRendered(tokenizer, rendered, all, media_tokens);
}

Result<std::vector<int32_t>> EncodeTurn(const Tokenizer& tokenizer, const ChatMessage& message,
                                        bool add_generation_prompt, MediaTokenCounts media_tokens) {
  G3N_ASSIGN_OR_RETURN(std::string rendered, RenderTurn(message, add_generation_prompt));
  return EncodeRendered(tokenizer, rendered, {&message}, media_tokens);
}

Result<std::vector<ChatMessage>> ChatFromJson(const std::string& json_text) {
  using json = nlohmann::json;
  const json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return Error("chat: expected a JSON list of messages");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& m = j[i];
    const std::string where = "chat: message " + std::to_string(i);
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      return Error(where + " needs a string 'role'");
    const json content = m.contains("content") ? m["content"] : json();
    if (content.is_string()) {
      out.push_back(ChatMessage::Text(m["role"].get<std::string>(), content.get<std::string>()));
      continue;
    }
    if (!content.is_array()) return Error(where + ": Invalid content type (need a string or a list of items)");
    std::vector<ChatItem> items;
    for (const json& item : content) {
      const std::string type = item.is_object() ? item.value("type", "") : "";
      if (type == "text") {
        if (!item.contains("text") || !item["text"].is_string()) return Error(where + ": a text item needs 'text'");
        items.push_back(ChatItem{ChatItem::Type::kText, item["text"].get<std::string>()});
      } else if (type == "image") {
        items.push_back(ChatItem{ChatItem::Type::kImage, ""});
      } else if (type == "audio") {
        items.push_back(ChatItem{ChatItem::Type::kAudio, ""});
      }
    }
    out.push_back(ChatMessage::Items(m["role"].get<std::string>(), std::move(items)));
  }
  return out;
}

std::string ChatToJson(const std::vector<ChatMessage>& messages) {
  using json = nlohmann::json;
  json j = json::array();
  for (const ChatMessage& m : messages) {
    json e = {{"role", m.role}};
    if (!m.is_list) {
      e["content"] = m.text;
    } else {
      json items = json::array();
      for (const ChatItem& item : m.items) {
        if (item.type == ChatItem::Type::kText) items.push_back({{"type", "text"}, {"text", item.text}});
        if (item.type == ChatItem::Type::kImage) items.push_back({{"type", "image"}});
        if (item.type == ChatItem::Type::kAudio) items.push_back({{"type", "audio"}});
      }
      e["content"] = items;
    }
    j.push_back(e);
  }
  // Invalid UTF-8 in a message is replaced rather than thrown on.
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace g3n
