// BpeEncoder: the normalizer + BPE model half of the Gemma tokenizer, applied to text that lies
// between added tokens. Token-exact with HF `tokenizers` BPE (merge_word + Word::merge_all):
// characters map to their single-character piece, else to byte pieces <0xNN> (byte_fallback),
// else to <unk>; then the pair with the lowest merge rank is merged, leftmost first, until no
// pair has a merge.
//
// Speed: HF runs BPE over a whole segment (Gemma's pre-tokenizer splits nothing), which is a
// heap over every character of a line. We cut the segment before each "▁" whose preceding
// character can never be merged with a following "▁" (no piece contains that character followed
// by "▁") and run BPE per word. No merge can cross such a cut, and merges on either side do not
// depend on each other, so the result is identical; words are short and hot in cache.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/flat_map.h"
#include "tokenizer/tokenizer_spec.h"

namespace g3n {

// Reusable buffers for one Encode call.
struct BpeScratch {
  struct Symbol {
    int32_t id;
    int32_t prev, next;  // linked list over live symbols; -1 at the ends
    bool alive;
  };
  std::vector<Symbol> symbols;
  std::vector<uint64_t> heap;  // (rank << 32 | position), min-heap
  bool pending_unk = false;    // an <unk> not yet emitted (HF emits it before the next known char)
};

class BpeEncoder {
 public:
  void Build(const TokenizerSpec& spec);
  // Appends the ids of `segment` (valid UTF-8, no added tokens in it) to `out`.
  void EncodeSegment(std::string_view segment, std::vector<int32_t>& out, BpeScratch& sc) const;

 private:
  struct MergeInfo {
    int32_t rank, result;
  };
  int32_t CharId(char32_t cp) const {
    if (cp < bmp_ids_.size()) return bmp_ids_[cp];
    const int32_t* id = astral_ids_.Find(cp);
    return id != nullptr ? *id : -1;
  }
  bool JoinsSpace(char32_t cp) const {
    if (cp < 0x10000) return (joins_space_bmp_[cp >> 6] >> (cp & 63)) & 1;
    return joins_space_astral_.Find(cp) != nullptr;
  }
  const MergeInfo* FindMerge(int32_t a, int32_t b) const {
    return merges_.Find((static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b));
  }
  void AddChar(std::string_view bytes, char32_t cp, BpeScratch& sc) const;
  void Push(BpeScratch& sc, int32_t id) const;
  void MergeWord(BpeScratch& sc, std::vector<int32_t>& out) const;

  std::vector<int32_t> bmp_ids_;         // code point < 0x10000 -> single-character piece id, or -1
  FlatMap64<int32_t> astral_ids_;        // the same above U+FFFF
  std::array<int32_t, 256> byte_ids_{};  // <0xNN> piece ids, or -1
  FlatMap64<MergeInfo> merges_;          // (left << 32 | right) -> rank, result
  std::vector<uint64_t> joins_space_bmp_;  // bitset: some piece has this character then "▁"
  FlatMap64<char> joins_space_astral_;
  bool cut_words_ = true;  // false if a merge involves byte or unk pieces: then cuts are unsafe
  int32_t unk_id_ = -1;
  bool byte_fallback_ = false, fuse_unk_ = false;
};

}  // namespace g3n
