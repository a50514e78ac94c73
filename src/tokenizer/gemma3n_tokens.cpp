#include "tokenizer/gemma3n_tokens.h"

#include <filesystem>

#include "io/gguf.h"
#include "tokenizer/gguf_tokenizer.h"

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
  Result<Tokenizer> loaded = Error("");
  std::error_code ec;
  if (std::filesystem::is_regular_file(dir, ec)) {  // a GGUF file carries its own vocabulary
    G3N_ASSIGN_OR_RETURN(GgufFile f, OpenGguf(dir));
    loaded = TokenizerFromGguf(f);
  } else {
    loaded = Tokenizer::FromModelDir(dir, options, info);
  }
  if (!loaded.ok()) return loaded.status();
  Tokenizer t = std::move(*loaded);
  if (t.vocab_size() >= 262144 && t.Piece(kStartOfTurn) == "<start_of_turn>" && !HasMediaTokens(t))
    return FromGemma3(t);
  return t;
}

}  // namespace g3n::gemma3n
