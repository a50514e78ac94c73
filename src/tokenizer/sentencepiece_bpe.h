// A SentencePiece BPE vocabulary (pieces, scores, types: what llama.cpp's converter stores in a
// GGUF as tokenizer.ggml.*) turned into the Hugging Face BPE tokenizer that tokenizer.json holds
// for the same model, so that a GGUF alone tokenizes exactly like the checkpoint folder.
//
// The merges are rebuilt as transformers' SentencePieceExtractor made them from the same model:
// for every piece, each split into two pieces of the vocabulary (at character boundaries) is a
// merge; merges are ordered by the piece's score, highest first, ties in id order, and the
// splits of one piece by (left id, right id). User-defined and control pieces score 0 in a
// SentencePiece model; the converter stores -1000 for them, so they are read back as 0.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_spec.h"
#include "util/status.h"

namespace g3n {

struct SentencePieceVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;  // 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
  int32_t unk_id = -1;
  int32_t bos_id = -1;
  bool add_bos = true;
};

Result<TokenizerSpec> TokenizerSpecFromSentencePiece(const SentencePieceVocab& v, const std::string& source);

}  // namespace g3n
