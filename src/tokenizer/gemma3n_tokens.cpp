#include "tokenizer/gemma3n_tokens.h"

namespace g3n::gemma3n {

std::vector<AddedToken> MediaTokens() {
  return {{kStartOfImage, "<start_of_image>", true}, {kStartOfAudio, "<start_of_audio>", true},
          {kEndOfImage, "<end_of_image>", true},     {kImageSoftToken, "<image_soft_token>", true},
          {kEndOfAudio, "<end_of_audio>", true},     {kAudioSoftToken, "<audio_soft_token>", true}};
}

bool HasMediaTokens(const Tokenizer& t) {
  for (const AddedToken& m : MediaTokens())
    if (t.TokenId(m.content) != m.id || t.Piece(m.id) != m.content) return false;
  return true;
}

Result<Tokenizer> FromGemma3(const Tokenizer& t) {
  if (t.vocab_size() < 262144 || t.Piece(kStartOfTurn) != "<start_of_turn>")
    return Error("tokenizer: not a Gemma 3 vocabulary (" + std::to_string(t.vocab_size()) +
                 " pieces, id 105 is '" + std::string(t.Piece(kStartOfTurn)) + "')");
  return t.WithSpecialTokens(MediaTokens());
}

Result<Tokenizer> LoadTokenizer(const std::string& dir, const TokenizerLoadOptions& options,
                                TokenizerLoadInfo* info) {
  G3N_ASSIGN_OR_RETURN(Tokenizer t, Tokenizer::FromModelDir(dir, options, info));
  if (t.vocab_size() >= 262144 && t.Piece(kStartOfTurn) == "<start_of_turn>" && !HasMediaTokens(t))
    return FromGemma3(t);
  return t;
}

}  // namespace g3n::gemma3n
