#include "audio/audio_config.h"

#include <nlohmann/json.hpp>

namespace g3n {

int AudioConfig::sscp_freq_out(int i) const {
  int f = input_feat_size;
  for (int k = 0; k <= i; ++k) f = (f + 2 - sscp_kernel[k][1]) / sscp_stride[k][1] + 1;
  return f;
}

Status ValidateAudioConfig(const AudioConfig& c, const std::string& source) {
  auto bad = [&](const std::string& what) { return Error(source + ": audio_config: " + what); };
  if (c.input_feat_size <= 0 || c.hidden_size <= 0 || c.num_layers < 0) return bad("sizes must be positive");
  if (c.num_heads <= 0 || c.hidden_size % c.num_heads != 0) {
    return bad("hidden_size " + std::to_string(c.hidden_size) + " is not a multiple of conf_num_attention_heads");
  }
  if (c.hidden_size % 2 != 0) return bad("hidden_size must be even (sin/cos position signal)");
  if (c.chunk_size <= 0 || c.context_left < 0 || c.context_right < 0) return bad("bad attention context");
  if (c.logit_cap <= 0) return bad("conf_attention_logit_cap must be positive");
  if (c.conv_kernel_size <= 0 || c.reduction_factor <= 0) return bad("bad conv kernel / reduction factor");
  // transformers builds exactly two SSCP blocks and reads only the first two entries.
  if (c.sscp_channels.size() < 2 || c.sscp_kernel.size() < 2 || c.sscp_stride.size() < 2) {
    return bad("sscp_conv_channel_size / kernel_size / stride_size need two entries");
  }
  for (int i = 0; i < 2; ++i) {
    if (c.sscp_channels[i] <= 0) return bad("sscp_conv_channel_size must be positive");
    for (int d = 0; d < 2; ++d)
      if (c.sscp_kernel[i][d] <= 0 || c.sscp_stride[i][d] <= 0) return bad("sscp kernel/stride must be positive");
  }
  if (c.sscp_freq_out(0) <= 0 || c.sscp_freq_out(1) <= 0) return bad("input_feat_size too small for the SSCP");
  if (c.vocab_size <= 0 || c.vocab_offset < 0) return bad("bad vocab_size / vocab_offset");
  if (c.soft_tokens_per_clip <= 0) return Error(source + ": audio_soft_tokens_per_image must be positive");
  return Status();
}

Result<AudioConfig> ParseAudioConfig(const std::string& config_json, const std::string& source) {
  auto j = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error(source + ": not a JSON object");
  if (!j.contains("audio_config") || !j["audio_config"].is_object()) {
    return Error(source + ": no \"audio_config\": this checkpoint has no audio tower");
  }
  const auto& a = j["audio_config"];
  AudioConfig c;
  try {
    c.input_feat_size = a.value("input_feat_size", c.input_feat_size);
    c.hidden_size = a.value("hidden_size", c.hidden_size);
    c.num_layers = a.value("conf_num_hidden_layers", c.num_layers);
    c.num_heads = a.value("conf_num_attention_heads", c.num_heads);
    c.chunk_size = a.value("conf_attention_chunk_size", c.chunk_size);
    c.context_left = a.value("conf_attention_context_left", c.context_left);
    c.context_right = a.value("conf_attention_context_right", c.context_right);
    c.logit_cap = a.value("conf_attention_logit_cap", c.logit_cap);
    c.conv_kernel_size = a.value("conf_conv_kernel_size", c.conv_kernel_size);
    c.reduction_factor = a.value("conf_reduction_factor", c.reduction_factor);
    c.residual_weight = a.value("conf_residual_weight", c.residual_weight);
    c.sscp_channels = a.value("sscp_conv_channel_size", c.sscp_channels);
    c.sscp_kernel = a.value("sscp_conv_kernel_size", c.sscp_kernel);
    c.sscp_stride = a.value("sscp_conv_stride_size", c.sscp_stride);
    c.sscp_group_norm_eps = a.value("sscp_conv_group_norm_eps", c.sscp_group_norm_eps);
    c.rms_norm_eps = a.value("rms_norm_eps", c.rms_norm_eps);
    c.gradient_clipping = a.value("gradient_clipping", c.gradient_clipping);
    c.vocab_size = a.value("vocab_size", c.vocab_size);
    c.vocab_offset = a.value("vocab_offset", c.vocab_offset);
    c.audio_token_id = j.value("audio_token_id", c.audio_token_id);
    c.boa_token_id = j.value("boa_token_id", c.boa_token_id);
    c.eoa_token_id = j.value("eoa_token_id", c.eoa_token_id);
    c.soft_tokens_per_clip = j.value("audio_soft_tokens_per_image", c.soft_tokens_per_clip);
  } catch (const std::exception& e) {
    return Error(source + ": audio_config: " + e.what());
  }
  G3N_RETURN_IF_ERROR(ValidateAudioConfig(c, source));
  return c;
}

}  // namespace g3n
