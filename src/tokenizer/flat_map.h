// FlatMap64: an open-addressing hash map from 64-bit keys to small values, for the tokenizer's
// hot lookups (merge pairs, trie edges, astral code points). Built once, then read-only, so it
// needs no erase and no rehash-on-insert bookkeeping beyond a fixed load factor.
#pragma once
#include <cstdint>
#include <vector>

namespace g3n {

template <class V>
class FlatMap64 {
 public:
  // Sizes the table for `n` keys at a load factor of at most 1/2.
  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    shift_ = 64;
    for (size_t c = cap; c > 1; c >>= 1) --shift_;
    slots_.assign(cap, Slot{kEmpty, V{}});
    size_ = 0;
  }
  // Inserts or overwrites (the last insert of a key wins).
  void Put(uint64_t key, const V& v) {
    if (2 * (size_ + 1) > slots_.size()) Grow();
    Slot& s = slots_[Probe(key)];
    if (s.key == kEmpty) ++size_;
    s.key = key;
    s.value = v;
  }
  const V* Find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    const Slot& s = slots_[Probe(key)];
    return s.key == key ? &s.value : nullptr;
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~0ull;  // never a real key: callers pack ids < 2^31
  struct Slot {
    uint64_t key;
    V value;
  };
  size_t Probe(uint64_t key) const {
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
    while (slots_[i].key != key && slots_[i].key != kEmpty) i = (i + 1) & mask;
    return i;
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    Reserve(old.empty() ? 8 : old.size());
    for (const Slot& s : old)
      if (s.key != kEmpty) Put(s.key, s.value);
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
  int shift_ = 60;
};

}  // namespace g3n
