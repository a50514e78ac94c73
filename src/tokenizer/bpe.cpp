#include "tokenizer/bpe.h"

#include <algorithm>
#include <functional>

#include "tokenizer/utf8.h"

namespace g3n {
namespace {

constexpr char32_t kSpaceMark = 0x2581;  // "▁"
constexpr std::string_view kSpaceMarkUtf8 = "\xE2\x96\x81";

// Decodes the code point that ends just before byte offset `end` of valid UTF-8 `s`.
char32_t CodePointBefore(std::string_view s, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
  char32_t cp = 0;
  utf8::Decode(s, start, &cp);
  return cp;
}

}  // namespace

void BpeEncoder::Build(const TokenizerSpec& spec) {
  bmp_ids_.assign(0x10000, -1);
  astral_ids_ = FlatMap64<int32_t>();
  byte_ids_.fill(-1);
  joins_space_bmp_.assign(0x10000 / 64, 0);
  joins_space_astral_ = FlatMap64<char>();
  unk_id_ = spec.unk_id;
  byte_fallback_ = spec.byte_fallback;
  fuse_unk_ = spec.fuse_unk;

  static const char* hex = "0123456789ABCDEF";
  for (int32_t id = 0; id < spec.num_pieces(); ++id) {
    const std::string_view p = spec.piece(id);
    if (p.empty()) continue;
    char32_t cp = 0;
    if (utf8::Decode(p, 0, &cp) == p.size()) {
      if (cp < 0x10000) bmp_ids_[cp] = id;
      else astral_ids_.Put(cp, id);
    }
    // HF looks byte pieces up by the exact spelling format!("<{b:#04X}>"), e.g. "<0x0A>".
    if (p.size() == 6 && p.substr(0, 3) == "<0x" && p[5] == '>') {
      for (int b = 0; b < 256; ++b)
        if (p[3] == hex[b >> 4] && p[4] == hex[b & 15]) byte_ids_[b] = id;
    }
    for (size_t at = p.find(kSpaceMarkUtf8, 1); at != std::string_view::npos; at = p.find(kSpaceMarkUtf8, at + 1)) {
      const char32_t before = CodePointBefore(p, at);
      if (before < 0x10000) joins_space_bmp_[before >> 6] |= 1ull << (before & 63);
      else joins_space_astral_.Put(before, 1);
    }
  }

  merges_ = FlatMap64<MergeInfo>();
  merges_.Reserve(spec.merges.size());
  std::vector<bool> unmergeable(static_cast<size_t>(spec.num_pieces()), false);
  for (int32_t id : byte_ids_)
    if (id >= 0) unmergeable[id] = true;
  if (unk_id_ >= 0 && unk_id_ < spec.num_pieces()) unmergeable[unk_id_] = true;
  cut_words_ = CharId(kSpaceMark) >= 0;
  for (size_t r = 0; r < spec.merges.size(); ++r) {
    const Merge& m = spec.merges[r];
    merges_.Put((static_cast<uint64_t>(m.left) << 32) | static_cast<uint32_t>(m.right),
                MergeInfo{static_cast<int32_t>(r), m.result});
    if (unmergeable[m.left] || unmergeable[m.right]) cut_words_ = false;
  }
}

void BpeEncoder::Push(BpeScratch& sc, int32_t id) const {
  const int32_t n = static_cast<int32_t>(sc.symbols.size());
  sc.symbols.push_back(BpeScratch::Symbol{id, n - 1, -1, true});
}

// Mirrors HF BPE::merge_word, including where a pending <unk> is emitted.
void BpeEncoder::AddChar(std::string_view bytes, char32_t cp, BpeScratch& sc) const {
  const int32_t id = CharId(cp);
  if (id >= 0) {
    if (sc.pending_unk) Push(sc, unk_id_);
    sc.pending_unk = false;
    Push(sc, id);
    return;
  }
  if (byte_fallback_) {
    bool all = true;
    for (char b : bytes) all = all && byte_ids_[static_cast<uint8_t>(b)] >= 0;
    if (all) {
      for (char b : bytes) Push(sc, byte_ids_[static_cast<uint8_t>(b)]);
      return;
    }
  }
  // ParseTokenizerJson guarantees an <unk> whenever byte fallback can fail.
  if (sc.pending_unk && !fuse_unk_) Push(sc, unk_id_);
  sc.pending_unk = true;
}

void BpeEncoder::EncodeSegment(std::string_view seg, std::vector<int32_t>& out, BpeScratch& sc) const {
  sc.symbols.clear();
  sc.pending_unk = false;
  char32_t prev = 0;
  size_t i = 0;
  while (i < seg.size()) {
    char32_t cp = static_cast<uint8_t>(seg[i]);
    size_t n = 1;
    if (cp >= 0x80) n = utf8::Decode(seg, i, &cp);  // the caller made the text valid
    std::string_view bytes = seg.substr(i, n);
    if (cp == ' ') {  // the normalizer: Replace(" " -> "▁")
      cp = kSpaceMark;
      bytes = kSpaceMarkUtf8;
    }
    if (cp == kSpaceMark && cut_words_ && i > 0 && !JoinsSpace(prev)) MergeWord(sc, out);
    AddChar(bytes, cp, sc);
    prev = cp;
    i += n;
  }
  MergeWord(sc, out);
}

// HF Word::merge_all: repeatedly merge the live pair with the lowest (rank, position). Queue
// entries go stale when a neighbour changes; they are recognised on pop because the pair at
// their position no longer has their rank (ranks are unique per pair).
void BpeEncoder::MergeWord(BpeScratch& sc, std::vector<int32_t>& out) const {
  if (sc.pending_unk) Push(sc, unk_id_);
  sc.pending_unk = false;
  auto& s = sc.symbols;
  const int32_t n = static_cast<int32_t>(s.size());
  if (n == 0) return;
  if (n > 1) {
    s[n - 1].next = -1;
    for (int32_t i = 0; i + 1 < n; ++i) s[i].next = i + 1;
    auto& heap = sc.heap;
    heap.clear();
    const auto key = [](int32_t rank, int32_t pos) {
      return (static_cast<uint64_t>(rank) << 32) | static_cast<uint32_t>(pos);
    };
    for (int32_t i = 0; i + 1 < n; ++i)
      if (const MergeInfo* m = FindMerge(s[i].id, s[i + 1].id)) heap.push_back(key(m->rank, i));
    std::make_heap(heap.begin(), heap.end(), std::greater<>());
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<>());
      const uint64_t top = heap.back();
      heap.pop_back();
      const int32_t rank = static_cast<int32_t>(top >> 32), pos = static_cast<int32_t>(top & 0xFFFFFFFFu);
      BpeScratch::Symbol& a = s[pos];
      if (!a.alive || a.next < 0) continue;
      BpeScratch::Symbol& b = s[a.next];
      const MergeInfo* m = FindMerge(a.id, b.id);
      if (m == nullptr || m->rank != rank) continue;
      a.id = m->result;
      b.alive = false;
      a.next = b.next;
      if (a.next >= 0) s[a.next].prev = pos;
      if (a.prev >= 0)
        if (const MergeInfo* l = FindMerge(s[a.prev].id, a.id)) {
          heap.push_back(key(l->rank, a.prev));
          std::push_heap(heap.begin(), heap.end(), std::greater<>());
        }
      if (a.next >= 0)
        if (const MergeInfo* r = FindMerge(a.id, s[a.next].id)) {
          heap.push_back(key(r->rank, pos));
          std::push_heap(heap.begin(), heap.end(), std::greater<>());
        }
    }
  }
  for (int32_t i = 0; i >= 0; i = s[i].next) out.push_back(s[i].id);  // symbol 0 never dies
  s.clear();
}

}  // namespace g3n
