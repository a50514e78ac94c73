// Views of the MobileNet-V5 tower and embed_vision weights. 1x1 convs and the embedder's
// projection stay in the mapped checkpoint (they are plain [out, in] matrices); kxk convs are
// widened to fp32 and reordered once so that the kernels read them contiguously.
#pragma once
#include <vector>

#include "kernels/matrix.h"
#include "kernels/thread_pool.h"
#include "model/model.h"
#include "model/weight_store.h"
#include "vision/vision_config.h"

namespace g3n {

// A dense kxk conv, weights reordered to [out][ky][kx][in] (one im2col patch per row).
struct DenseConv {
  int in = 0, out = 0, k = 0, stride = 1;
  std::vector<float> w;
  std::vector<float> bias;  // empty = none
  WeightMatrix requantized;  // set when a WeightStore re-encoded w (w is then empty)
  WeightMatrix matrix() const;
};

// A depthwise kxk conv, weights reordered to [ky][kx][channel].
struct DepthwiseConv {
  int channels = 0, k = 0, stride = 1;
  std::vector<float> w;
};

struct VisionBlock {
  BlockSpec spec;
  int in = 0, mid = 0, out = 0;
  bool residual = false;
  // EdgeResidual
  DenseConv conv_exp;
  std::vector<float> bn1, bn2;
  WeightMatrix conv_pwl;
  // UniversalInvertedResidual (empty dw = absent)
  DepthwiseConv dw_start, dw_mid;
  std::vector<float> dw_start_bn, dw_mid_bn, pw_exp_bn, pw_proj_bn;
  WeightMatrix pw_exp, pw_proj;
  std::vector<float> layer_scale;  // UIR and MQA
  // MobileAttention
  std::vector<float> norm, key_norm, value_norm;
  WeightMatrix query, key, value, output;
  DepthwiseConv key_down, value_down;
};

struct VisionWeights {
  VisionConfig config;
  DenseConv stem;
  std::vector<float> stem_bn;
  std::vector<std::vector<VisionBlock>> stages;
  WeightMatrix msfa_pw_exp, msfa_pw_proj;
  std::vector<float> msfa_pw_exp_bn, msfa_pw_proj_bn, msfa_norm;
  // embed_vision
  WeightMatrix embed_table;       // [vocab_size, hidden_size]
  WeightMatrix embed_projection;  // [text hidden, hidden_size]
  std::vector<float> hard_norm, soft_norm;
  int text_hidden = 0;
  WeightStore store;  // owns re-encoded matrices (RequantizeVisionWeights)
};

// Binds and checks (presence, dtype, shape from the config) every vision tensor. Called when an
// image first arrives, never at model load. Checkpoints from the first (pre-July-2025) upload,
// whose conv kernels have H and W swapped, lack conv_stem.conv.bias and are refused.
Result<VisionWeights> BindVisionWeights(const Model& model);
Result<VisionWeights> BindVisionWeights(const Checkpoint& ck, int text_hidden);

// Re-encodes every matrix of the tower and embedder projection whose rows fit `type`'s blocks
// (1x1 and kxk convs, attention projections, MSFA; not the stem, whose rows are 27 long, nor the
// 128-row hard-token table) into memory `w` owns; their mapped BF16 pages are dropped.
// DType::Unknown keeps everything as stored.
void RequantizeVisionWeights(VisionWeights* w, DType type, ThreadPool* pool);
// Bytes an encode reads: every matrix (mapped or re-encoded) and every fp32 table.
size_t ResidentBytes(const VisionWeights& w);

}  // namespace g3n
