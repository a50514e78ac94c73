// Tokenizer: the Gemma 3 / Gemma 3n tokenizer read from a checkpoint's tokenizer.json, token-exact
// with Hugging Face `tokenizers` (the reference that transformers uses):
//   Encode: added tokens (<start_of_turn>, "\n\n", "\t\t", <unused9>, ...) are cut out of the raw
//           text first, leftmost-longest; the rest becomes ' ' -> '▁' and goes through BPE with
//           byte fallback (see bpe.h). <bos> leads when asked.
//   Decode: pieces with '▁' -> ' ', runs of byte pieces <0xNN> joined into UTF-8 (a run that is
//           not valid UTF-8 becomes one U+FFFD per byte, as HF does), everything concatenated.
//
// Invalid UTF-8 given to Encode is first repaired by replacing each maximal invalid subpart
// with U+FFFD (utf8::Sanitize), so the ids equal HF's for
// `bytes.decode("utf-8", errors="replace")`. Decode always returns valid UTF-8.
//
// Loading: a 33 MB tokenizer.json takes ~1 s to parse, so the parsed form is cached in a binary
// file (tokenizer_cache.h) and later loads read that instead.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/tokenizer_spec.h"
#include "util/status.h"

namespace g3n {

struct TokenizerLoadOptions {
  bool use_cache = true;
  // Smaller tokenizer.json files parse faster than a cache could help (and test fixtures in the
  // source tree should not grow cache files): they are never cached.
  uint64_t min_cache_source_bytes = 1 << 20;
  // Where the binary cache lives; empty: beside tokenizer.json, or under $XDG_CACHE_HOME
  // (~/.cache) /gemma3n/ when that folder is read-only.
  std::string cache_path;
};

struct TokenizerLoadInfo {
  bool from_cache = false;   // read from the binary cache (else parsed from JSON)
  bool cache_written = false;
  std::string cache_path;    // the cache read or written; empty if none
  double seconds = 0.0;
};

class Tokenizer {
 public:
  // `config_path` (tokenizer_config.json) may be empty: add_bos then follows the post-processor.
  static Result<Tokenizer> FromFile(const std::string& json_path, const std::string& config_path,
                                    const TokenizerLoadOptions& options = {}, TokenizerLoadInfo* info = nullptr);
  // tokenizer.json (+ tokenizer_config.json if present) in a checkpoint folder.
  static Result<Tokenizer> FromModelDir(const std::string& dir, const TokenizerLoadOptions& options = {},
                                        TokenizerLoadInfo* info = nullptr);
  static Result<Tokenizer> FromSpec(TokenizerSpec spec);

  // A copy with these special tokens set: each id gets its content (renaming the BPE piece too
  // when the id lies inside the BPE vocabulary); an older added token with the same content
  // but another id is dropped. Ids may lie past the BPE vocabulary (Gemma 3n's media tokens).
  Result<Tokenizer> WithSpecialTokens(const std::vector<AddedToken>& tokens) const;

  std::vector<int32_t> Encode(std::string_view text, bool add_bos) const;
  std::vector<int32_t> Encode(std::string_view text) const { return Encode(text, spec_->add_bos); }
  // Ids outside the vocabulary are skipped (as HF does); special tokens are kept unless asked.
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special = false) const;

  // One step of Decode, for StreamingDecoder: appends the text of `id` to `out`, except that
  // byte pieces collect in `pending_bytes` until FlushBytes decides whether they are valid.
  void DecodeStep(int32_t id, bool skip_special, std::string& pending_bytes, std::string& out) const;
  static void FlushBytes(std::string& pending_bytes, std::string& out);

  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  int32_t TokenId(std::string_view piece) const;  // -1 if absent; added tokens first, as HF
  std::string_view Piece(int32_t id) const {      // "" if absent
    return id >= 0 && id < vocab_size() ? std::string_view(pieces_[id]) : std::string_view();
  }
  bool IsSpecial(int32_t id) const { return id >= 0 && id < vocab_size() && special_[id]; }
  int32_t bos_id() const { return spec_->bos_id; }
  bool add_bos() const { return spec_->add_bos; }
  const TokenizerSpec& spec() const { return *spec_; }

 private:
  Status Build();
  std::string_view IndexKey(int32_t slot) const;

  // Behind a pointer so that the views below survive moves of the Tokenizer.
  std::unique_ptr<TokenizerSpec> spec_;
  std::vector<std::string_view> pieces_;  // by id: added content, else BPE piece (into *spec_)
  std::vector<uint8_t> special_;
  std::vector<int16_t> byte_value_;       // by id: the byte a <0xNN> piece stands for, or -1
  std::vector<int32_t> index_;            // open-addressing piece -> id table, see Build()
  BpeEncoder bpe_;
  AddedTokenMatcher added_;
};

}  // namespace g3n
