#include "tokenizer/gguf_tokenizer.h"

#include "tokenizer/gemma3n_tokens.h"
#include "tokenizer/sentencepiece_bpe.h"

namespace g3n {

Result<Tokenizer> TokenizerFromGguf(const GgufFile& f) {
  if (f.Find("tokenizer.ggml.tokens") == nullptr) return Error(f.path() + ": the GGUF carries no tokenizer");
  G3N_ASSIGN_OR_RETURN(std::string model, f.GetString("tokenizer.ggml.model"));
  if (model != "llama")
    return Error(f.Where("tokenizer.ggml.model") + ": tokenizer model '" + model +
                 "' is not the SentencePiece ('llama') model Gemma 3n uses");
  SentencePieceVocab v;
  G3N_ASSIGN_OR_RETURN(v.tokens, f.GetStringArray("tokenizer.ggml.tokens"));
  G3N_ASSIGN_OR_RETURN(std::vector<double> scores, f.GetFloatArray("tokenizer.ggml.scores"));
  G3N_ASSIGN_OR_RETURN(std::vector<int64_t> types, f.GetIntArray("tokenizer.ggml.token_type"));
  v.scores.assign(scores.begin(), scores.end());
  v.types.assign(types.begin(), types.end());
  G3N_ASSIGN_OR_RETURN(int64_t unk, f.GetIntOr("tokenizer.ggml.unknown_token_id", -1));
  G3N_ASSIGN_OR_RETURN(int64_t bos, f.GetIntOr("tokenizer.ggml.bos_token_id", -1));
  v.unk_id = static_cast<int32_t>(unk);
  v.bos_id = static_cast<int32_t>(bos);
  if (f.Find("tokenizer.ggml.add_bos_token") != nullptr) {
    G3N_ASSIGN_OR_RETURN(v.add_bos, f.GetBool("tokenizer.ggml.add_bos_token"));
  }
  const int64_t n = static_cast<int64_t>(v.tokens.size());
  if ((unk < -1 || unk >= n) || (bos < -1 || bos >= n))
    return Error(f.path() + ": tokenizer special ids lie outside its " + std::to_string(n) + " tokens");
  G3N_ASSIGN_OR_RETURN(TokenizerSpec spec, TokenizerSpecFromSentencePiece(v, f.path()));
  return Tokenizer::FromSpec(std::move(spec));
}

}  // namespace g3n
