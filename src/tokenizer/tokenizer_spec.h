// TokenizerSpec: everything a Gemma tokenizer is made of, in a form that is cheap to store and
// reload (the binary cache writes it as is). It is read from tokenizer.json (+ its
// tokenizer_config.json) by ParseTokenizerJson; Tokenizer builds its lookup tables from it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace g3n {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;  // skipped by Decode(..., skip_special=true)
};

struct Merge {
  int32_t left = 0, right = 0, result = 0;  // rank = index in TokenizerSpec::merges
};

struct TokenizerSpec {
  // The BPE model's pieces by id, concatenated: piece i is
  // piece_blob[piece_offsets[i], piece_offsets[i + 1]); an empty piece means "no such id".
  std::string piece_blob;
  std::vector<uint32_t> piece_offsets{0};
  std::vector<Merge> merges;       // by rank
  std::vector<AddedToken> added;   // matched in the raw text before BPE
  int32_t unk_id = -1;
  bool byte_fallback = true;
  bool fuse_unk = false;
  bool add_bos = false;            // default for Encode, from tokenizer_config.json
  int32_t bos_id = -1;

  int32_t num_pieces() const { return static_cast<int32_t>(piece_offsets.size()) - 1; }
  std::string_view piece(int32_t id) const {
    return std::string_view(piece_blob).substr(piece_offsets[id], piece_offsets[id + 1] - piece_offsets[id]);
  }
  void AppendPiece(std::string_view p) {
    piece_blob.append(p);
    piece_offsets.push_back(static_cast<uint32_t>(piece_blob.size()));
  }
};

// `json_text` is tokenizer.json; `config_text` (tokenizer_config.json) may be empty. `source`
// names the file in messages. Only the pipeline Gemma uses is accepted (see tokenizer_json.cpp);
// anything else is an error naming the unsupported part, never a silently different tokenizer.
Result<TokenizerSpec> ParseTokenizerJson(const std::string& json_text, const std::string& config_text,
                                         const std::string& source);

}  // namespace g3n
