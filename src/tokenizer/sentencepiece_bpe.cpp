#include "tokenizer/sentencepiece_bpe.h"

#include <algorithm>

#include <string_view>
#include <unordered_map>

namespace g3n {
namespace {

constexpr int32_t kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5;
constexpr const char* kSpace = "\xE2\x96\x81";

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

// Byte offsets where a UTF-8 character starts, past the first one.
std::vector<size_t> CharBoundaries(std::string_view s) {
  std::vector<size_t> b;
  for (size_t i = 1; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) b.push_back(i);
  return b;
}

}  // namespace

Result<TokenizerSpec> TokenizerSpecFromSentencePiece(const SentencePieceVocab& v, const std::string& source) {
  const size_t n = v.tokens.size();
  if (n == 0 || v.scores.size() != n || v.types.size() != n)
    return Error(source + ": tokenizer pieces, scores and types must be non-empty and of equal length (" +
                 std::to_string(n) + ", " + std::to_string(v.scores.size()) + ", " + std::to_string(v.types.size()) +
                 ")");
  TokenizerSpec spec;
  // Pieces as tokenizer.json spells them: the converter writes user-defined pieces with ' ' for
  // '\u2581'; the unused "[PAD<id>]" fillers past the SentencePiece model are not pieces.
  std::vector<std::string> pieces(n);
  for (size_t i = 0; i < n; ++i) {
    if (v.types[i] == kUnused && v.tokens[i].rfind("[PAD", 0) == 0) continue;
    pieces[i] = v.types[i] == kUserDefined ? Replace(v.tokens[i], " ", kSpace) : v.tokens[i];
  }
  std::unordered_map<std::string_view, int32_t> id_of;
  id_of.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (!pieces[i].empty()) id_of.emplace(pieces[i], static_cast<int32_t>(i));

  std::vector<float> score(n);
  for (size_t i = 0; i < n; ++i)
    score[i] = (v.types[i] == kUserDefined || v.types[i] == kControl) ? 0.0f : v.scores[i];
  // Every split of every piece, pieces in id order and each piece's splits by (left, right) id;
  // then one stable sort by (score, left length, right length), all descending, lengths in
  // characters, as transformers' generate_merges does.
  struct Candidate {
    Merge m;
    float score;
    uint32_t left_chars, right_chars;
  };
  std::vector<Candidate> all;
  for (size_t id = 0; id < n; ++id) {
    const std::string_view p = pieces[id];
    if (p.empty()) continue;
    const size_t first = all.size();
    const std::vector<size_t> cuts = CharBoundaries(p);
    for (size_t k = 0; k < cuts.size(); ++k) {
      auto l = id_of.find(p.substr(0, cuts[k]));
      auto r = id_of.find(p.substr(cuts[k]));
      if (l == id_of.end() || r == id_of.end()) continue;
      all.push_back(Candidate{Merge{l->second, r->second, static_cast<int32_t>(id)}, score[id],
                              static_cast<uint32_t>(k + 1), static_cast<uint32_t>(cuts.size() - k)});
    }
    std::sort(all.begin() + static_cast<long>(first), all.end(), [](const Candidate& a, const Candidate& b) {
      return a.m.left != b.m.left ? a.m.left < b.m.left : a.m.right < b.m.right;
    });
  }
  std::stable_sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.left_chars != b.left_chars) return a.left_chars > b.left_chars;
    return a.right_chars > b.right_chars;
  });
  spec.merges.reserve(all.size());
  for (const Candidate& c : all) spec.merges.push_back(c.m);

  for (size_t i = 0; i < n; ++i) spec.AppendPiece(pieces[i]);
  for (size_t i = 0; i < n; ++i) {
    const int32_t t = v.types[i];
    if (pieces[i].empty() || (t != kControl && t != kUserDefined && t != kUnknown)) continue;
    spec.added.push_back(AddedToken{static_cast<int32_t>(i), pieces[i], t != kUserDefined});
  }
  spec.unk_id = v.unk_id;
  spec.bos_id = v.bos_id;
  spec.add_bos = v.add_bos;
  spec.byte_fallback = true;
  spec.fuse_unk = true;
  return spec;
}

}  // namespace g3n
