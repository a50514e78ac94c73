// The vision tower's shape, from config.json's vision_config: the MobileNet-V5 block list
// (timm's block strings, spec §2.4), the MSFA and the embedder. The released checkpoints name
// the architecture `mobilenetv5_300m_enc`, whose block list is built in; a test checkpoint may
// carry its own list in vision_config.model_args (see tests/fixtures/README.md, tiny-vision).
#pragma once
#include <string>
#include <vector>

#include "util/status.h"

namespace g3n {

enum class BlockKind { EdgeResidual, UniversalInvertedResidual, MobileAttention };

struct BlockSpec {
  BlockKind kind = BlockKind::EdgeResidual;
  int kernel = 0;     // ER: conv_exp kernel; MQA: K/V down-sampling kernel
  int dw_start = 0;   // UIR: leading depthwise kernel (0 = none)
  int dw_mid = 0;     // UIR: middle depthwise kernel (0 = none)
  int stride = 1;
  float exp_ratio = 1.0f;
  int out = 0;        // output channels
  int heads = 0;      // MQA query heads
  int kv_dim = 0;     // MQA key/value dim (one shared K/V head)
  int kv_stride = 1;  // MQA K/V down-sampling stride
};

// Parses one timm block string, e.g. "uir_r1_a3_k5_s2_e6_c256" or "mqa_r1_k3_h12_v2_s1_d64_c640";
// r<n> repeats it.
Result<std::vector<BlockSpec>> ParseBlockString(const std::string& s);

// timm's make_divisible(v, 8): round to a multiple of 8, never more than 10% below v.
int MakeDivisible(float v, int divisor = 8);

struct VisionConfig {
  std::string architecture;
  int stem_size = 64;
  std::vector<std::vector<BlockSpec>> stages;
  int hidden_size = 2048;          // MSFA output channels = soft-token width
  int msfa_output_resolution = 16;
  float msfa_expansion = 2.0f;
  float norm_eps = 1e-6f;          // the tower's RmsNorm2d
  float rms_norm_eps = 1e-6f;      // embed_vision's norms
  int vocab_size = 128;            // hard-token rows
  int vocab_offset = 262144;
  int soft_tokens_per_image = 256;
  int image_token_id = 262145;
  int boi_token_id = 255999;
  int eoi_token_id = 262144;
};

// `config_json` is the whole config.json (nested Gemma3nConfig).
Result<VisionConfig> ParseVisionConfig(const std::string& config_json, const std::string& source);

}  // namespace g3n
