// The tokenizer of a GGUF file: its tokenizer.ggml.* metadata (SentencePiece model "llama") as
// a Tokenizer that encodes and decodes exactly like the checkpoint folder's tokenizer.json.
#pragma once
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace g3n {

Result<Tokenizer> TokenizerFromGguf(const GgufFile& f);

}  // namespace g3n
