// Gemma 3n's token ids (spec gemma3n-text.md §6). Gemma 3n uses the Gemma 3 vocabulary plus media
// tokens: 256000 is <start_of_audio> (Gemma 3 has <end_of_image> there) and the ids from 262144
// belong to the vision (262144-262271) and audio (262272-262399) blocks, of which four are named.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace g3n::gemma3n {

inline constexpr int32_t kPad = 0, kEos = 1, kBos = 2, kUnk = 3;
inline constexpr int32_t kStartOfTurn = 105, kEndOfTurn = 106;
inline constexpr int32_t kStartOfImage = 255999, kStartOfAudio = 256000;
inline constexpr int32_t kEndOfImage = 262144, kImageSoftToken = 262145;
inline constexpr int32_t kEndOfAudio = 262272, kAudioSoftToken = 262273;
inline constexpr int kImageTokensPerImage = 256;  // soft tokens per image (processor image_seq_length)
inline constexpr int kAudioTokensPerClip = 188;   // soft tokens per audio clip (audio_seq_length)

// The six media tokens with their Gemma 3n ids.
std::vector<AddedToken> MediaTokens();

// True when the tokenizer already has Gemma 3n's media tokens at their ids.
bool HasMediaTokens(const Tokenizer& t);

// The Gemma 3n tokenizer from a Gemma 3 tokenizer.json (a copy of `t` if it is one already).
Result<Tokenizer> FromGemma3(const Tokenizer& t);

// The tokenizer of a checkpoint folder (tokenizer.json + tokenizer_config.json) or of a GGUF
// file (its tokenizer.ggml.* metadata): a Gemma 3 vocabulary without the media tokens gets them
// (FromGemma3); any other is used as it is.
Result<Tokenizer> LoadTokenizer(const std::string& dir, const TokenizerLoadOptions& options = {},
                                TokenizerLoadInfo* info = nullptr);

}  // namespace g3n::gemma3n
