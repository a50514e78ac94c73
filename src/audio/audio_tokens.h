// What the text decoder receives for audio (spec §4.3 step 4): per clip exactly
// soft_tokens_per_clip (188) rows for its <audio_soft_token> positions — embed_audio's soft
// path over the encoder frames, with padded frames and the tail up to 188 replaced by the hard
// embedding of id text_vocab_size - 1 (transformers' choice; 262399 in the released models) —
// and the hard-path rows of the other audio ids (e.g. <end_of_audio>). They enter the decoder
// as EmbeddingOverrides.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "audio/audio_embedder.h"
#include "audio/audio_encoder.h"
#include "model/text_decoder.h"

namespace g3n {

struct AudioTokensTrace {
  AudioEncoderTrace encoder;
  AudioEncoding encoding;
  std::vector<float> soft;  // [N, text hidden], before padding rows are substituted
};

// Rows for the audio ids of a prompt, as decoder overrides.
struct AudioPromptRows {
  std::vector<int> rows;    // prompt positions
  std::vector<float> data;  // [rows.size(), text hidden]
  EmbeddingOverrides overrides() const { return {rows, data.data()}; }
};

class AudioTokens {
 public:
  // `w` must outlive this object.
  AudioTokens(const AudioWeights& w, ThreadPool* pool);

  // One clip's features -> [slots(), text hidden].
  Result<std::vector<float>> ClipRows(const MelFeatures& f, AudioTokensTrace* trace = nullptr) const;
  Result<std::vector<float>> ClipRows(const float* features, const uint8_t* valid, int64_t frames,
                                      AudioTokensTrace* trace = nullptr) const;
  // Hard-path embedding [text hidden] of an id in the audio range.
  Result<std::vector<float>> HardEmbedding(int64_t id) const;

  // Overrides for every audio id in `ids`: the k-th <audio_soft_token> gets row k of the clips
  // taken in order (each clip_rows entry is one ClipRows result); other audio ids get their
  // hard embedding. The soft-token count must equal clips x slots().
  Result<AudioPromptRows> PromptRows(std::span<const int32_t> ids, const std::vector<std::vector<float>>& clip_rows) const;

  int slots() const { return w_.config.soft_tokens_per_clip; }
  int hidden() const { return w_.text_hidden_size; }
  const AudioEncoder& encoder() const { return encoder_; }
  const AudioEmbedder& embedder() const { return embedder_; }

 private:
  const AudioWeights& w_;
  AudioEncoder encoder_;
  AudioEmbedder embedder_;
};

}  // namespace g3n
