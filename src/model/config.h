// Gemma3nConfig: everything the engine needs to know about a model's shape, read from
// config.json (nested multimodal form or text-only form) and generation_config.json.
// Layer types, KV roles, FFN widths and sparsity all come from here, never from constants.
#pragma once
#include <string>
#include <vector>

#include "util/status.h"

namespace g3n {

enum class LayerType { Sliding, Full };

struct TextConfig {
  int hidden_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int vocab_size = 0;
  int vocab_size_per_layer_input = 0;
  int per_layer_dim = 0;  // hidden_size_per_layer_input
  int sliding_window = 512;
  int laurel_rank = 64;
  int altup_num_inputs = 4;
  int altup_active_idx = 0;
  int num_kv_shared_layers = 0;
  int max_position_embeddings = 32768;
  float rope_theta_global = 1e6f;
  float rope_theta_local = 1e4f;
  float rms_norm_eps = 1e-6f;
  float final_logit_softcap = 0.0f;  // 0 = none
  float altup_coef_clip = 120.0f;     // 0 = none
  bool altup_correct_scale = true;
  std::vector<int> intermediate_size;       // per layer
  std::vector<LayerType> layer_types;       // per layer
  std::vector<float> activation_sparsity;   // per layer, 0 = dense

  // Derived: the layer whose KV cache layer l attends over (l itself for non-consumers), and
  // the first KV-consumer layer (num_layers when there is no sharing).
  std::vector<int> kv_source;
  int first_kv_shared = 0;

  bool is_kv_consumer(int l) const { return kv_source[l] != l; }
  float rope_theta(int l) const { return layer_types[l] == LayerType::Full ? rope_theta_global : rope_theta_local; }
};

struct GenerationConfig {
  bool do_sample = false;
  float temperature = 1.0f;
  int top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  int bos_token_id = 2;
  int pad_token_id = 0;
  std::vector<int> eos_token_ids{1};
};

struct ModelConfig {
  TextConfig text;
  GenerationConfig generation;
  bool multimodal = false;  // nested Gemma3nConfig with vision/audio configs
  std::string source;       // path of config.json, for messages
};

// `config_json` is config.json's text; `generation_json` may be empty.
Result<ModelConfig> ParseModelConfig(const std::string& config_json, const std::string& generation_json,
                                     const std::string& source);

// Recomputes kv_source / first_kv_shared from layer_types and num_kv_shared_layers.
Status DeriveKvRoles(TextConfig& c, const std::string& source);

}  // namespace g3n
