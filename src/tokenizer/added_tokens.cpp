#include "tokenizer/added_tokens.h"

namespace g3n {

void AddedTokenMatcher::Add(std::string_view content, int32_t id) {
  if (content.empty()) return;
  int32_t& first = root_[static_cast<uint8_t>(content[0])];
  if (first < 0) first = NewNode();
  int32_t node = first;
  for (size_t k = 1; k < content.size(); ++k) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(content[k]);
    const int32_t* child = edges_.Find(key);
    if (child != nullptr) {
      node = *child;
    } else {
      const int32_t next = NewNode();
      edges_.Put(key, next);
      node = next;
    }
  }
  token_[node] = id;
}

bool AddedTokenMatcher::Walk(std::string_view text, size_t pos, int32_t node, int32_t* id, size_t* len) const {
  bool found = false;
  for (size_t k = pos + 1;; ++k) {
    if (token_[node] >= 0) {
      *id = token_[node];
      *len = k - pos;
      found = true;
    }
    if (k == text.size()) break;
    const int32_t* child = edges_.Find((static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(text[k]));
    if (child == nullptr) break;
    node = *child;
  }
  return found;
}

}  // namespace g3n
