#include "audio/audio_tokens.h"

#include <algorithm>

namespace g3n {

AudioTokens::AudioTokens(const AudioWeights& w, ThreadPool* pool) : w_(w), encoder_(w, pool), embedder_(w, pool) {}

Result<std::vector<float>> AudioTokens::HardEmbedding(int64_t id) const {
  std::vector<float> out(static_cast<size_t>(w_.text_hidden_size));
  G3N_RETURN_IF_ERROR(embedder_.Hard(id, out.data()));
  return out;
}

Result<std::vector<float>> AudioTokens::ClipRows(const MelFeatures& f, AudioTokensTrace* trace) const {
  G3N_RETURN_IF_ERROR(CheckFeatures(f, w_.config));
  return ClipRows(f.values.data(), f.mask.empty() ? nullptr : f.mask.data(), f.frames, trace);
}

Result<std::vector<float>> AudioTokens::ClipRows(const float* features, const uint8_t* valid, int64_t frames,
                                                 AudioTokensTrace* trace) const {
  const int64_t H = w_.text_hidden_size, slots = w_.config.soft_tokens_per_clip;
  G3N_ASSIGN_OR_RETURN(AudioEncoding e,
                       encoder_.Encode(features, valid, frames, trace != nullptr ? &trace->encoder : nullptr));
  if (e.frames > slots) {
    return Error("audio: the clip gives " + std::to_string(e.frames) + " audio tokens but a clip has " +
                 std::to_string(slots) + " slots (clips are at most 30 s)");
  }
  std::vector<float> rows(static_cast<size_t>(slots * H));
  embedder_.Soft(e.values.data(), e.frames, rows.data());
  if (trace != nullptr) trace->soft.assign(rows.begin(), rows.begin() + e.frames * H);
  G3N_ASSIGN_OR_RETURN(std::vector<float> pad, HardEmbedding(static_cast<int64_t>(w_.text_vocab_size) - 1));
  for (int64_t n = 0; n < slots; ++n)
    if (n >= e.frames || !e.valid[n]) std::copy(pad.begin(), pad.end(), rows.begin() + n * H);
  if (trace != nullptr) trace->encoding = std::move(e);
  return rows;
}

Result<AudioPromptRows> AudioTokens::PromptRows(std::span<const int32_t> ids,
                                                const std::vector<std::vector<float>>& clip_rows) const {
  const int64_t H = w_.text_hidden_size, slots = w_.config.soft_tokens_per_clip;
  for (const auto& c : clip_rows)
    if (c.size() != static_cast<size_t>(slots * H)) return Error("audio: clip rows must be slots x text hidden");
  const int64_t soft = std::count(ids.begin(), ids.end(), w_.config.audio_token_id);
  if (soft != static_cast<int64_t>(clip_rows.size()) * slots) {
    return Error("audio: the prompt has " + std::to_string(soft) + " <audio_soft_token> ids but " +
                 std::to_string(clip_rows.size()) + " clip(s) need " + std::to_string(clip_rows.size() * slots));
  }
  AudioPromptRows p;
  int64_t k = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    if (!embedder_.IsAudioId(ids[t])) continue;
    p.rows.push_back(static_cast<int>(t));
    const size_t at = p.data.size();
    p.data.resize(at + static_cast<size_t>(H));
    if (ids[t] == w_.config.audio_token_id) {
      const auto& clip = clip_rows[static_cast<size_t>(k / slots)];
      std::copy(clip.begin() + (k % slots) * H, clip.begin() + (k % slots + 1) * H, p.data.begin() + at);
      ++k;
    } else {
      G3N_RETURN_IF_ERROR(embedder_.Hard(ids[t], p.data.data() + at));
    }
  }
  return p;
}

}  // namespace g3n
