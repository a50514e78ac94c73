#include "audio/audio_embedder.h"

#include <vector>

#include "kernels/ops.h"

namespace g3n {

void AudioEmbedder::Project(const float* normed, int64_t n, float* out) const {
  const int64_t H = w_.text_hidden_size;
  MatMul(w_.embed.projection, normed, n, out, H, pool_);
  for (int64_t i = 0; i < n; ++i) RmsNorm(out + i * H, nullptr, H, w_.config.rms_norm_eps, out + i * H);
}

void AudioEmbedder::Soft(const float* x, int64_t n, float* out) const {
  const int64_t D = w_.config.hidden_size;
  std::vector<float> normed(static_cast<size_t>(n * D));
  for (int64_t i = 0; i < n; ++i)
    RmsNorm(x + i * D, w_.embed.soft_norm.data(), D, w_.config.rms_norm_eps, normed.data() + i * D);
  Project(normed.data(), n, out);
}

Status AudioEmbedder::Hard(int64_t id, float* out) const {
  if (!IsAudioId(id)) {
    return Error("embed_audio: id " + std::to_string(id) + " is outside the audio range [" +
                 std::to_string(w_.config.vocab_offset) + ", " +
                 std::to_string(w_.config.vocab_offset + w_.config.vocab_size) + ")");
  }
  const int64_t D = w_.config.hidden_size;
  std::vector<float> row(static_cast<size_t>(D));
  RowToF32(w_.embed.table.dtype, w_.embed.table.row(id - w_.config.vocab_offset), D, row.data());
  RmsNorm(row.data(), w_.embed.hard_norm.data(), D, w_.config.rms_norm_eps, row.data());
  Project(row.data(), 1, out);
  return Status();
}

}  // namespace g3n
