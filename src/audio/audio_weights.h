// Views of the audio tower (model.audio_tower.*) and its embedder (model.embed_audio.*) in the
// mapped checkpoint. Linear layers stay in the file (BF16/F16/F32, read by MatMul); norm
// scales and conv kernels are small and are widened to fp32 here, conv kernels repacked into
// the (time, freq, in-channel) order the SSCP's patch gather produces.
// Nothing here runs at model load: only code that handles audio calls BindAudioWeights.
#pragma once
#include <vector>

#include "audio/audio_config.h"
#include "io/checkpoint.h"
#include "kernels/matrix.h"
#include "kernels/thread_pool.h"
#include "model/weight_store.h"
#include "util/status.h"

namespace g3n {

struct Model;

struct SscpConvWeights {
  std::vector<float> kernel;  // [out, kh * kw * in], index (i * kw + j) * in + c
  std::vector<float> norm;    // [out], cumulative group norm scale
};

struct SscpWeights {
  SscpConvWeights conv[2];
  WeightMatrix input_proj;  // [hidden, freq_out * channels]
};

struct FfwWeights {
  std::vector<float> pre_norm, post_norm;
  WeightMatrix up, down;  // ffw_layer_1 [4D, D], ffw_layer_2 [D, 4D]
};

struct AttentionWeights {
  std::vector<float> pre_norm, post_norm;
  WeightMatrix q, k, v, pos_proj, post;  // [D, D] each
  std::vector<float> per_dim_scale;      // [head_dim], raw (softplus applied by the encoder)
};

struct LconvWeights {
  std::vector<float> pre_norm, conv_norm;
  WeightMatrix linear_start, linear_end;  // [2D, D], [D, D]
  std::vector<float> depthwise;           // [D, kernel]
};

struct ConformerWeights {
  FfwWeights ffw_start, ffw_end;
  AttentionWeights attn;
  LconvWeights lconv;
  std::vector<float> norm;
};

struct AudioEmbedderWeights {
  WeightMatrix table;                    // [vocab_size, D] hard-token rows
  std::vector<float> hard_norm, soft_norm;
  WeightMatrix projection;               // [text hidden, D]
};

struct AudioWeights {
  AudioConfig config;
  int text_hidden_size = 0;
  int text_vocab_size = 0;  // HF pads audio slots with the embedding of id text_vocab_size - 1
  SscpWeights sscp;
  std::vector<ConformerWeights> blocks;
  AudioEmbedderWeights embed;
  WeightStore store;  // owns re-encoded matrices (RequantizeAudioWeights)
};

// Parses audio_config and binds every audio tensor by its checkpoint name, checking presence,
// dtype (BF16/F16/F32) and shape. The views point into `model`'s mapped files: the model must
// outlive the result. Fails with a clear message for a checkpoint without an audio tower.
Result<AudioWeights> BindAudioWeights(const Model& model);
// The same from any checkpoint holding the tower (a separate folder beside a GGUF text model).
Result<AudioWeights> BindAudioWeights(const Checkpoint& ck, int text_hidden_size, int text_vocab_size);

// Re-encodes every linear layer (SSCP projection, conformer FFN / attention / light-conv
// projections, the embedder projection) into `type` in memory `w` owns, dropping their mapped
// pages. DType::Unknown keeps everything as stored.
void RequantizeAudioWeights(AudioWeights* w, DType type, ThreadPool* pool);
// Bytes an encode reads: every matrix (mapped or re-encoded) and every fp32 table.
size_t ResidentBytes(const AudioWeights& w);

}  // namespace g3n
