// The audio tower's shape (config.json "audio_config", HF Gemma3nAudioConfig) plus the
// top-level keys that place audio in the prompt. Defaults are HF's, which are the released
// checkpoints' values, so keys a config.json leaves out mean the same as in transformers.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "util/status.h"

namespace g3n {

struct AudioConfig {
  int input_feat_size = 128;  // mel bins
  int hidden_size = 1536;
  int num_layers = 12;        // conf_num_hidden_layers
  int num_heads = 8;          // conf_num_attention_heads
  int chunk_size = 12;        // conf_attention_chunk_size (HF's block size; the math is a plain window)
  int context_left = 13;      // self + 12 past frames
  int context_right = 0;
  float logit_cap = 50.0f;
  int conv_kernel_size = 5;
  int reduction_factor = 4;
  float residual_weight = 0.5f;
  std::vector<int> sscp_channels{128, 32};
  std::vector<std::array<int, 2>> sscp_kernel{{3, 3}, {3, 3}};  // (time, freq)
  std::vector<std::array<int, 2>> sscp_stride{{2, 2}, {2, 2}};  // (time, freq)
  float sscp_group_norm_eps = 1e-3f;
  float rms_norm_eps = 1e-6f;
  float gradient_clipping = 1e10f;
  int vocab_size = 128;        // rows of embed_audio's hard-token table
  int vocab_offset = 262272;   // first audio id
  // Top-level Gemma3nConfig keys.
  int audio_token_id = 262273;  // <audio_soft_token>
  int boa_token_id = 256000;    // <start_of_audio>
  int eoa_token_id = 262272;    // <end_of_audio>
  int soft_tokens_per_clip = 188;

  int head_dim() const { return hidden_size / num_heads; }
  int max_past() const { return context_left > 0 ? context_left - 1 : 0; }
  // Frequency bins after SSCP conv block i (padding 1 on both sides).
  int sscp_freq_out(int i) const;
  int sscp_proj_in() const { return sscp_channels.back() * sscp_freq_out(1); }
};

// Reads "audio_config" and the audio ids from config.json's text. A config without an
// "audio_config" object (text-only checkpoints) is an error that says so.
Result<AudioConfig> ParseAudioConfig(const std::string& config_json, const std::string& source);
Status ValidateAudioConfig(const AudioConfig& c, const std::string& source);

}  // namespace g3n
