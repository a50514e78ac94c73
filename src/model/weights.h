// Typed views of the text decoder's weights inside the mapped checkpoint. Matrices stay in the
// files; only small vectors (norm scales, AltUp coefficients) are widened to fp32 at load.
#pragma once
#include <memory>
#include <vector>

#include "io/checkpoint.h"
#include "kernels/matrix.h"
#include "model/config.h"

namespace g3n {

using Vec = std::vector<float>;

struct LayerWeights {
  Vec input_norm, post_attn_norm, pre_ffn_norm, post_ffn_norm;
  WeightMatrix q, k, v, o;  // k/v unused (and possibly absent) in KV-consumer layers
  Vec q_norm, k_norm;
  WeightMatrix gate, up, down;
  Vec altup_correct_scale;  // [H]
  Vec altup_correction;     // [A, A], clamped
  Vec altup_prediction;     // [A*A, A], clamped
  WeightMatrix altup_router;  // [A, H]
  Vec altup_router_norm;
  WeightMatrix laurel_left, laurel_right;
  Vec laurel_post_norm;
  WeightMatrix per_layer_gate, per_layer_proj;  // [P, H], [H, P]
  Vec post_per_layer_norm;
};

struct TextWeights {
  WeightMatrix embed;             // [vocab, H], also the tied LM head
  WeightMatrix ple;               // [vocab_per_layer, L*P], gathered row by row
  std::shared_ptr<MappedFile> ple_file;  // where `ple` lives, so rows can be read, not mapped
  WeightMatrix ple_projection;    // [L_stored*P, H]
  // For a MatFormer sub-model: the stored layer whose PLE slice (and projection rows) each
  // kept layer uses. Empty means every stored layer is kept, in order.
  std::vector<int> ple_slices;
  Vec ple_projection_norm;        // [P]
  std::vector<WeightMatrix> altup_proj, altup_unembed;  // A-1 each, [H, H]
  Vec final_norm;
  std::vector<LayerWeights> layers;
};

// Bytes of the weights a forward pass reads: every matrix and vector except the PLE table
// (read row by row from storage) and the dead K/V projections of KV-consumer layers.
size_t ResidentWeightBytes(const TextWeights& w);

// Binds and validates every text tensor (presence, dtype, shape) of an HF checkpoint.
Result<TextWeights> BindTextWeights(const Checkpoint& ck, const TextConfig& c);

}  // namespace g3n
