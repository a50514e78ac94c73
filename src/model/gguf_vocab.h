// The tokenizer metadata llama.cpp's converter (convert_hf_to_gguf.py, Gemma 3n path) writes,
// rebuilt from a Hugging Face folder: tokenizer.model (SentencePiece protobuf: pieces, scores,
// types), added_tokens.json, tokenizer_config.json (added_tokens_decoder, special tokens,
// add_*_token, chat_template), tokenizer.json (added tokens, post-processor) and config.json
// (*_token_id). Ids past the SentencePiece model up to the model's vocab_size become
// "[PAD<id>]" (unused, score -10000), as in the converter.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/gguf_writer.h"
#include "util/status.h"

namespace g3n {

// SentencePiece piece types (sentencepiece_model.proto) == GGUF token types.
enum GgufTokenType : int32_t { kTokNormal = 1, kTokUnknown = 2, kTokControl = 3, kTokUserDefined = 4, kTokUnused = 5, kTokByte = 6 };

struct SentencePiece {
  std::string piece;
  float score = 0.0f;
  int32_t type = kTokNormal;
};

// Parses the pieces of a SentencePiece ModelProto (field 1); other fields are skipped.
Result<std::vector<SentencePiece>> ParseSentencePieceModel(const std::string& bytes, const std::string& path);

struct HfVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::vector<std::pair<std::string, int32_t>> special_ids;  // ("bos", 2), ... in the converter's order
  std::vector<std::pair<std::string, bool>> add_flags;       // ("bos", true), ...
  std::optional<std::string> chat_template;
};

// The pieces of a Hugging Face BPE tokenizer.json (model.vocab / model.merges) in SentencePiece
// form, for folders without tokenizer.model: normal pieces score 0, -1, -2, ... in the order of
// the first merge that makes each (pieces no merge makes score below them), added pieces 0, as
// in a SentencePiece BPE model; "<0xXX>" pieces are byte pieces.
Result<std::vector<SentencePiece>> SentencePiecesFromTokenizerJson(const std::string& path);

// `vocab_size` is the model's (text_config.vocab_size). Reads tokenizer.model (what the
// converter reads), else tokenizer.json (SentencePiecesFromTokenizerJson); fails if neither.
Result<HfVocab> ReadHfVocab(const std::string& dir, int vocab_size);

// Adds tokenizer.ggml.* / tokenizer.chat_template in the converter's order.
void WriteGgufVocab(const HfVocab& v, GgufWriter& w);

}  // namespace g3n
