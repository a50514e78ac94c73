#include "audio/audio_encoder.h"

#include <algorithm>

#include "audio/conformer_block.h"
#include "audio/sscp.h"

namespace g3n {

AudioEncoder::AudioEncoder(const AudioWeights& w, ThreadPool* pool) : w_(w), pool_(pool) {
  for (const ConformerWeights& b : w.blocks) attn_.push_back(MakeAttentionConstants(w.config, b.attn, pool));
}

int64_t AudioEncoder::OutputFrames(int64_t frames) const {
  const int64_t t2 = SscpFrames(w_.config, frames), r = w_.config.reduction_factor;
  return (t2 + r - 1) / r;
}

Status CheckFeatures(const MelFeatures& f, const AudioConfig& c) {
  if (f.bins != c.input_feat_size) {
    return Error("audio encoder: features have " + std::to_string(f.bins) + " mel bins, the model expects " +
                 std::to_string(c.input_feat_size));
  }
  if (f.frames < 0 || f.values.size() != static_cast<size_t>(f.frames * f.bins) ||
      (!f.mask.empty() && f.mask.size() != static_cast<size_t>(f.frames))) {
    return Error("audio encoder: feature buffer does not hold frames x bins values and one mask entry per frame");
  }
  return Status();
}

Result<AudioEncoding> AudioEncoder::Encode(const MelFeatures& f, AudioEncoderTrace* trace) const {
  G3N_RETURN_IF_ERROR(CheckFeatures(f, w_.config));
  return Encode(f.values.data(), f.mask.empty() ? nullptr : f.mask.data(), f.frames, trace);
}

Result<AudioEncoding> AudioEncoder::Encode(const float* features, const uint8_t* valid, int64_t frames,
                                           AudioEncoderTrace* trace) const {
  const AudioConfig& c = w_.config;
  if (frames <= 0) return Error("audio encoder: the clip has no feature frames (shorter than one 32 ms window)");
  if (features == nullptr) return Error("audio encoder: no feature data");
  const int64_t D = c.hidden_size;
  std::vector<float> x;
  RunSscp(c, w_.sscp, features, frames, x, pool_);
  const int64_t T2 = static_cast<int64_t>(x.size()) / D;
  // Each sub-sampled frame takes the mask of the first mel frame of its receptive field.
  const int64_t stride = static_cast<int64_t>(c.sscp_stride[0][0]) * c.sscp_stride[1][0];
  std::vector<uint8_t> valid2(static_cast<size_t>(T2), 1);
  if (valid != nullptr)
    for (int64_t j = 0; j < T2; ++j) valid2[j] = valid[std::min(j * stride, frames - 1)] ? 1 : 0;
  if (trace != nullptr) {
    trace->sscp = x;
    trace->sscp_valid = valid2;
    trace->blocks.clear();
  }
  for (size_t b = 0; b < w_.blocks.size(); ++b) {
    RunConformerBlock(c, w_.blocks[b], attn_[b], x.data(), valid2.data(), T2, pool_);
    if (trace != nullptr) trace->blocks.push_back(x);
  }
  AudioEncoding e;
  e.hidden = c.hidden_size;
  e.frames = (T2 + c.reduction_factor - 1) / c.reduction_factor;
  e.values.assign(static_cast<size_t>(e.frames * D), 0.0f);
  e.valid.resize(static_cast<size_t>(e.frames));
  for (int64_t n = 0; n < e.frames; ++n) {
    const int64_t src = n * c.reduction_factor;
    e.valid[n] = valid2[src];
    if (e.valid[n]) std::copy(x.begin() + src * D, x.begin() + (src + 1) * D, e.values.begin() + n * D);
  }
  return e;
}

}  // namespace g3n
