// AddedTokenMatcher: finds added/special tokens (<start_of_turn>, "\n\n", <unused7>, ...) in raw
// text before any normalization or BPE, with HF's leftmost-longest rule: the earliest start
// wins, and among tokens starting there the longest.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/flat_map.h"

namespace g3n {

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() { root_.fill(-1); }
  // A later Add of the same content replaces the earlier id.
  void Add(std::string_view content, int32_t id);
  // The longest token starting at text[pos]: sets *id and *len and returns true, or false.
  bool MatchAt(std::string_view text, size_t pos, int32_t* id, size_t* len) const {
    int32_t node = root_[static_cast<uint8_t>(text[pos])];
    if (node < 0) return false;  // the common case: no token starts with this byte
    return Walk(text, pos, node, id, len);
  }

 private:
  bool Walk(std::string_view text, size_t pos, int32_t node, int32_t* id, size_t* len) const;
  int32_t NewNode() {
    token_.push_back(-1);
    return static_cast<int32_t>(token_.size()) - 1;
  }
  std::array<int32_t, 256> root_;  // first byte -> node
  FlatMap64<int32_t> edges_;       // (node << 8 | byte) -> child node
  std::vector<int32_t> token_;     // node -> token id ending there, or -1
};

}  // namespace g3n
