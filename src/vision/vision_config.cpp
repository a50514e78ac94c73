#include "vision/vision_config.h"

#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

namespace g3n {
namespace {

// mobilenetv5_300m_enc (timm `_gen_mobilenet_v5`), as block strings per stage.
std::vector<std::vector<std::string>> Mnv5_300m() {
  std::vector<std::vector<std::string>> s(4);
  s[0] = {"er_r1_k3_s2_e4_c128", "er_r2_k3_s1_e4_c128"};
  s[1] = {"uir_r1_a3_k5_s2_e6_c256", "uir_r1_a5_k0_s1_e4_c256", "uir_r1_a3_k0_s1_e4_c256",
          "uir_r1_a5_k0_s1_e4_c256", "uir_r1_a3_k0_s1_e4_c256"};
  s[2] = {"uir_r1_a5_k5_s2_e6_c640", "uir_r7_a5_k0_s1_e4_c640", "uir_r1_a0_k0_s1_e1_c640"};
  for (int i = 0; i < 14; ++i) {
    s[2].push_back("mqa_r1_k3_h12_v2_s1_d64_c640");
    s[2].push_back("uir_r1_a0_k0_s1_e2_c640");
  }
  s[3] = {"uir_r1_a5_k5_s2_e6_c1280"};
  for (int i = 0; i < 19; ++i) {
    s[3].push_back("mqa_r1_k3_h16_s1_d96_c1280");
    s[3].push_back("uir_r1_a0_k0_s1_e2_c1280");
  }
  return s;
}

}  // namespace

int MakeDivisible(float v, int divisor) {
  int n = std::max(divisor, static_cast<int>(v + divisor / 2.0f) / divisor * divisor);
  if (n < 0.9f * v) n += divisor;
  return n;
}

Result<std::vector<BlockSpec>> ParseBlockString(const std::string& s) {
  std::stringstream ss(s);
  std::string tok;
  std::vector<std::string> parts;
  while (std::getline(ss, tok, '_')) parts.push_back(tok);
  if (parts.empty()) return Error("empty block string");
  BlockSpec b;
  if (parts[0] == "er") b.kind = BlockKind::EdgeResidual;
  else if (parts[0] == "uir") b.kind = BlockKind::UniversalInvertedResidual;
  else if (parts[0] == "mqa") b.kind = BlockKind::MobileAttention;
  else return Error("block '" + s + "': unsupported type '" + parts[0] + "' (er, uir, mqa)");
  int repeat = 1;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p.size() < 2) return Error("block '" + s + "': bad option '" + p + "'");
    const char key = p[0];
    const std::string val = p.substr(1);
    char* end = nullptr;
    const double v = std::strtod(val.c_str(), &end);
    if (end == val.c_str() || *end != '\0') return Error("block '" + s + "': bad option '" + p + "'");
    const int iv = static_cast<int>(v);
    switch (key) {
      case 'r': repeat = iv; break;
      case 'k': (b.kind == BlockKind::UniversalInvertedResidual ? b.dw_mid : b.kernel) = iv; break;
      case 'a': b.dw_start = iv; break;
      case 's': b.stride = iv; break;
      case 'e': b.exp_ratio = static_cast<float>(v); break;
      case 'c': b.out = iv; break;
      case 'h': b.heads = iv; break;
      case 'd': b.kv_dim = iv; break;
      case 'v': b.kv_stride = iv; break;
      default: return Error("block '" + s + "': unsupported option '" + p + "'");
    }
  }
  if (repeat < 1 || b.out <= 0 || b.stride < 1 || b.stride > 2 || b.kv_stride < 1 || b.kv_stride > 2)
    return Error("block '" + s + "': bad repeat, channels or stride");
  if (b.kind == BlockKind::MobileAttention && (b.heads <= 0 || b.kv_dim <= 0 || b.stride != 1))
    return Error("block '" + s + "': attention needs h>0, d>0 and stride 1");
  if (b.kind == BlockKind::EdgeResidual && b.kernel % 2 == 0) return Error("block '" + s + "': needs an odd kernel");
  return std::vector<BlockSpec>(static_cast<size_t>(repeat), b);
}

Result<VisionConfig> ParseVisionConfig(const std::string& text, const std::string& source) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(source + ": not a JSON object");
  if (!j.contains("vision_config") || !j["vision_config"].is_object())
    return Error(source + ": no vision_config (not a multimodal Gemma 3n checkpoint)");
  VisionConfig c;
  std::vector<std::vector<std::string>> arch;
  try {
    const auto& v = j["vision_config"];
    c.architecture = v.value("architecture", std::string());
    c.hidden_size = v.value("hidden_size", c.hidden_size);
    c.vocab_size = v.value("vocab_size", c.vocab_size);
    c.vocab_offset = v.value("vocab_offset", c.vocab_offset);
    c.rms_norm_eps = v.value("rms_norm_eps", c.rms_norm_eps);
    c.soft_tokens_per_image = j.value("vision_soft_tokens_per_image", c.soft_tokens_per_image);
    c.image_token_id = j.value("image_token_id", c.image_token_id);
    c.boi_token_id = j.value("boi_token_id", c.boi_token_id);
    c.eoi_token_id = j.value("eoi_token_id", c.eoi_token_id);
    const nlohmann::json args = v.contains("model_args") && v["model_args"].is_object() ? v["model_args"]
                                                                                       : nlohmann::json::object();
    if (args.contains("g3n_arch")) {
      arch = args["g3n_arch"].get<std::vector<std::vector<std::string>>>();
      c.stem_size = args.value("stem_size", c.stem_size);
      c.msfa_output_resolution = args.value("msfa_output_resolution", c.msfa_output_resolution);
      if (args.value("num_features", c.hidden_size) != c.hidden_size)
        return Error(source + ": vision_config.model_args.num_features differs from vision_config.hidden_size");
    } else if (c.architecture == "mobilenetv5_300m_enc") {
      arch = Mnv5_300m();
    } else {
      return Error(source + ": unsupported vision architecture '" + c.architecture +
                   "' (only mobilenetv5_300m_enc, or a block list in vision_config.model_args.g3n_arch)");
    }
  } catch (const nlohmann::json::exception& e) {
    return Error(source + ": vision_config: " + e.what());
  }
  for (const auto& stage : arch) {
    std::vector<BlockSpec> blocks;
    for (const std::string& s : stage) {
      Result<std::vector<BlockSpec>> r = ParseBlockString(s);
      if (!r.ok()) return Error(source + ": " + r.status().message());
      blocks.insert(blocks.end(), r->begin(), r->end());
    }
    c.stages.push_back(std::move(blocks));
  }
  if (c.stages.size() < 2) return Error(source + ": the vision tower needs at least two stages (MSFA inputs)");
  const int r = c.msfa_output_resolution;
  if (c.hidden_size <= 0 || c.stem_size <= 0 || r <= 0 || r * r != c.soft_tokens_per_image)
    return Error(source + ": vision_soft_tokens_per_image (" + std::to_string(c.soft_tokens_per_image) +
                 ") must be the square of the MSFA output resolution (" + std::to_string(r) + ")");
  return c;
}

}  // namespace g3n
