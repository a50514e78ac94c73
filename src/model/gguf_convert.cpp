#include "model/gguf_convert.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/gguf_writer.h"
#include "kernels/ops.h"
#include "kernels/quant/quant.h"
#include "model/gguf_vocab.h"

namespace g3n {
namespace {

namespace fs = std::filesystem;

bool EndsWith(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}
bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

DType MixDefault(GgufMix m) {
  switch (m) {
    case GgufMix::F32: return DType::F32;
    case GgufMix::F16: return DType::F16;
    case GgufMix::BF16: return DType::BF16;
    case GgufMix::Q8_0: return DType::Q8_0;
    case GgufMix::Q4_0: return DType::Q4_0;
    case GgufMix::Q4_1: return DType::Q4_1;
    case GgufMix::Q5_0: return DType::Q5_0;
    case GgufMix::Q5_1: return DType::Q5_1;
    case GgufMix::Q4_K_M: return DType::Q4_K;
    case GgufMix::Q5_K_M: return DType::Q5_K;
    case GgufMix::Q6_K: return DType::Q6_K;
  }
  return DType::F16;
}

bool IsFloatMix(GgufMix m) { return m == GgufMix::F32 || m == GgufMix::F16 || m == GgufMix::BF16; }

// llama.cpp's tensor_type_fallback.
DType Fallback(DType t, int64_t ne0) {
  if (ne0 % BlockElems(t) == 0) return t;
  DType f = t;
  if (t == DType::Q4_K) f = DType::Q5_0;
  else if (t == DType::Q5_K) f = DType::Q5_1;
  else if (t == DType::Q6_K) f = DType::Q8_0;
  return ne0 % BlockElems(f) == 0 ? f : DType::F16;
}

bool UseMoreBits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// A model-name string like the converter's fallback (directory name, words capitalised).
std::string NameFromDir(const std::string& dir) {
  std::string base = fs::path(dir).lexically_normal().filename().string();
  if (base.empty()) base = fs::path(dir).lexically_normal().parent_path().filename().string();
  std::string out;
  bool start = true;
  for (char ch : base) {
    if (ch == '-' || ch == '_') {
      out += ' ';
      start = true;
      continue;
    }
    out += start ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
    start = false;
  }
  return out;
}

// gguf-py's size_label: "906K", "5.4B", ...
std::string SizeLabel(uint64_t n) {
  double x;
  const char* suffix;
  if (n > 1e12) { x = n * 1e-12; suffix = "T"; }
  else if (n > 1e9) { x = n * 1e-9; suffix = "B"; }
  else if (n > 1e6) { x = n * 1e-6; suffix = "M"; }
  else { x = n * 1e-3; suffix = "K"; }
  std::string digits = std::to_string(static_cast<long long>(std::nearbyint(x)));
  while (!digits.empty() && digits[0] == '0') digits.erase(0, 1);
  const int fix = std::max(2 - static_cast<int>(digits.size()), 0);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f%s", fix, x, suffix);
  return buf;
}

// Encodes n floats as `t` into dst.
Status EncodeRow(DType t, const float* src, int64_t n, uint8_t* dst, const std::string& name) {
  if (!QuantizeRow(t, src, n, dst))
    return Error("quantize: tensor '" + name + "': cannot encode a row of " + std::to_string(n) + " values as " +
                 DTypeName(t));
  return Status();
}

void AddGenerationSampling(const std::string& dir, GgufWriter& w) {
  auto text = ReadTextFile((fs::path(dir) / "generation_config.json").string());
  if (!text.ok()) return;
  const nlohmann::json g = nlohmann::json::parse(*text, nullptr, false);
  if (g.is_discarded() || !g.is_object()) return;
  if (g.contains("top_k") && g["top_k"].is_number_integer()) w.AddI32("general.sampling.top_k", g["top_k"].get<int32_t>());
  if (g.contains("top_p") && g["top_p"].is_number()) w.AddF32("general.sampling.top_p", g["top_p"].get<float>());
  if (g.contains("min_p") && g["min_p"].is_number()) w.AddF32("general.sampling.min_p", g["min_p"].get<float>());
  if (g.contains("temperature") && g["temperature"].is_number())
    w.AddF32("general.sampling.temp", g["temperature"].get<float>());
  const char* rep = g.contains("penalty_repeat") ? "penalty_repeat" : "repetition_penalty";
  if (g.contains(rep) && g[rep].is_number()) w.AddF32("general.sampling.penalty_repeat", g[rep].get<float>());
}

}  // namespace

Result<GgufMix> ParseGgufMix(const std::string& s) {
  for (GgufMix m : {GgufMix::F32, GgufMix::F16, GgufMix::BF16, GgufMix::Q8_0, GgufMix::Q4_0, GgufMix::Q4_1, GgufMix::Q5_0,
                    GgufMix::Q5_1, GgufMix::Q4_K_M, GgufMix::Q5_K_M, GgufMix::Q6_K})
    if (s == GgufMixName(m)) return m;
  return Error("unknown --type '" + s + "' (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K_M, Q5_K_M, Q6_K)");
}

const char* GgufMixName(GgufMix m) {
  switch (m) {
    case GgufMix::F32: return "F32";
    case GgufMix::F16: return "F16";
    case GgufMix::BF16: return "BF16";
    case GgufMix::Q8_0: return "Q8_0";
    case GgufMix::Q4_0: return "Q4_0";
    case GgufMix::Q4_1: return "Q4_1";
    case GgufMix::Q5_0: return "Q5_0";
    case GgufMix::Q5_1: return "Q5_1";
    case GgufMix::Q4_K_M: return "Q4_K_M";
    case GgufMix::Q5_K_M: return "Q5_K_M";
    case GgufMix::Q6_K: return "Q6_K";
  }
  return "?";
}

uint32_t GgufFileType(GgufMix m) {
  switch (m) {
    case GgufMix::F32: return 0;
    case GgufMix::F16: return 1;
    case GgufMix::Q4_0: return 2;
    case GgufMix::Q4_1: return 3;
    case GgufMix::Q8_0: return 7;
    case GgufMix::Q5_0: return 8;
    case GgufMix::Q5_1: return 9;
    case GgufMix::Q4_K_M: return 15;
    case GgufMix::Q5_K_M: return 17;
    case GgufMix::Q6_K: return 18;
    case GgufMix::BF16: return 32;
  }
  return 1;
}

Result<DType> ParseGgufTensorType(const std::string& s) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                  DType::Q4_K, DType::Q5_K, DType::Q6_K})
    if (s == DTypeName(t)) return t;
  return Error("unknown tensor type '" + s + "' (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)");
}

DType ChooseGgufType(const std::string& name, const std::vector<int64_t>& ne, DType source, int layer, int n_layers,
                     const GgufConvertOptions& opt) {
  const bool one_d = ne.size() <= 1 || (ne.size() == 2 && ne[1] == 1);
  if (one_d || EndsWith(name, "_norm.weight") || Contains(name, "altup_correct_coef") ||
      Contains(name, "altup_predict_coef"))
    return DType::F32;
  const int64_t ne0 = ne[0];
  const bool is_embed = name == "token_embd.weight", is_ple = name == "per_layer_token_embd.weight";
  if (is_embed && opt.embed_type) return Fallback(*opt.embed_type, ne0);
  if (is_ple && opt.ple_type) return Fallback(*opt.ple_type, ne0);
  const DType def = MixDefault(opt.mix);
  if (IsFloatMix(opt.mix)) return def;
  // llama-quantize: tensors it never quantizes keep the converter's float type.
  if (Contains(name, "altup") || Contains(name, "laurel") || Contains(name, "per_layer_model_proj"))
    return source == DType::F32 || source == DType::F16 || source == DType::BF16 ? source : DType::F16;
  DType t = def;
  if (is_embed || is_ple) {  // tied embeddings: quantized like the output tensor
    t = (ne0 % BlockElems(def) != 0 || def == DType::Q8_0) ? DType::Q8_0 : DType::Q6_K;
  } else if (opt.mix == GgufMix::Q4_K_M || opt.mix == GgufMix::Q5_K_M) {
    if ((Contains(name, "attn_v.weight") || Contains(name, "ffn_down")) && layer >= 0 && UseMoreBits(layer, n_layers))
      t = DType::Q6_K;
  }
  return Fallback(t, ne0);
}

Result<std::vector<GgufTensorPlan>> PlanGgufTensors(const Model& model, const GgufConvertOptions& opt) {
  const Checkpoint& ck = model.checkpoint;
  const TextConfig& c = model.config.text;
  std::string prefix = "model.language_model.";
  if (ck.Find(prefix + "embed_tokens.weight") == nullptr && ck.Find("model.embed_tokens.weight") != nullptr)
    prefix = "model.";
  const int64_t H = c.hidden_size, L = c.num_layers, P = c.per_layer_dim, A = c.altup_num_inputs;
  const int64_t V = c.vocab_size;
  std::vector<GgufTensorPlan> plan;
  Status st;
  // ggml shape of an HF tensor: reversed.
  auto add = [&](const std::string& name, const std::string& hf, int layer, bool optional = false,
                 const std::vector<int64_t>& zero_shape = {}) {
    if (!st.ok()) return;
    GgufTensorPlan p;
    p.name = name;
    const TensorView* t = ck.Find(prefix + hf);
    DType src = DType::BF16;
    if (t == nullptr) {
      if (!optional) {
        st = Error(ck.dir + ": missing tensor '" + prefix + hf + "'");
        return;
      }
      p.ne = zero_shape;  // llama.cpp needs the tensor; write zeros (never read: KV consumer)
    } else {
      p.ne.assign(t->shape.rbegin(), t->shape.rend());
      p.sources.push_back(t);
      src = t->dtype;
    }
    if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") {
      // The converter pads both tables to vocab_size rows with zeros.
      if (p.ne.size() == 2 && p.ne[1] < V) {
        p.pad_rows = V - p.ne[1];
        p.ne[1] = V;
      }
    }
    p.type = ChooseGgufType(name, p.ne, src, layer, static_cast<int>(L), opt);
    plan.push_back(std::move(p));
  };
  auto add_stacked = [&](const std::string& name, const std::string& hf_base) {
    if (!st.ok()) return;
    GgufTensorPlan p;
    p.name = name;
    p.ne = {H, H, A - 1};
    for (int64_t k = 0; k + 1 < A; ++k) {
      const TensorView* t = ck.Find(prefix + hf_base + "." + std::to_string(k) + ".weight");
      if (t == nullptr) {
        st = Error(ck.dir + ": missing tensor '" + prefix + hf_base + "." + std::to_string(k) + ".weight'");
        return;
      }
      p.sources.push_back(t);
    }
    p.type = ChooseGgufType(name, p.ne, p.sources[0]->dtype, -1, static_cast<int>(L), opt);
    plan.push_back(std::move(p));
  };
  add("token_embd.weight", "embed_tokens.weight", -1);
  add("per_layer_token_embd.weight", "embed_tokens_per_layer.weight", -1);
  add("per_layer_model_proj.weight", "per_layer_model_projection.weight", -1);
  add("per_layer_proj_norm.weight", "per_layer_projection_norm.weight", -1);
  add_stacked("altup_proj.weight", "altup_projections");
  add_stacked("altup_unembd_proj.weight", "altup_unembed_projections");
  add("output_norm.weight", "norm.weight", -1);
  const int64_t kv_dim = static_cast<int64_t>(c.num_kv_heads) * c.head_dim;
  for (int l = 0; l < L; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    const std::string h = "layers." + std::to_string(l) + ".";
    const bool consumer = c.is_kv_consumer(l);
    add(b + "attn_norm.weight", h + "input_layernorm.weight", l);
    add(b + "attn_q.weight", h + "self_attn.q_proj.weight", l);
    add(b + "attn_k.weight", h + "self_attn.k_proj.weight", l, consumer, {H, kv_dim});
    add(b + "attn_v.weight", h + "self_attn.v_proj.weight", l, consumer, {H, kv_dim});
    add(b + "attn_output.weight", h + "self_attn.o_proj.weight", l);
    add(b + "attn_q_norm.weight", h + "self_attn.q_norm.weight", l);
    add(b + "attn_k_norm.weight", h + "self_attn.k_norm.weight", l, consumer, {c.head_dim});
    add(b + "post_attention_norm.weight", h + "post_attention_layernorm.weight", l);
    add(b + "ffn_norm.weight", h + "pre_feedforward_layernorm.weight", l);
    add(b + "ffn_gate.weight", h + "mlp.gate_proj.weight", l);
    add(b + "ffn_up.weight", h + "mlp.up_proj.weight", l);
    add(b + "ffn_down.weight", h + "mlp.down_proj.weight", l);
    add(b + "post_ffw_norm.weight", h + "post_feedforward_layernorm.weight", l);
    add(b + "inp_gate.weight", h + "per_layer_input_gate.weight", l);
    add(b + "proj.weight", h + "per_layer_projection.weight", l);
    add(b + "post_norm.weight", h + "post_per_layer_input_norm.weight", l);
    add(b + "altup_correct_coef.weight", h + "altup.correction_coefs.weight", l);
    add(b + "altup_correct_scale.weight", h + "altup.correct_output_scale", l);
    add(b + "altup_predict_coef.weight", h + "altup.prediction_coefs.weight", l);
    add(b + "altup_router.weight", h + "altup.modality_router.weight", l);
    add(b + "altup_router_norm.weight", h + "altup.router_norm.weight", l);
    add(b + "laurel_l.weight", h + "laurel.linear_left.weight", l);
    add(b + "laurel_r.weight", h + "laurel.linear_right.weight", l);
    add(b + "laurel_post_norm.weight", h + "laurel.post_laurel_norm.weight", l);
  }
  G3N_RETURN_IF_ERROR(st);
  (void)P;
  return plan;
}

Status ConvertToGguf(const Model& model, const std::string& hf_dir, const std::string& out_path,
                     const GgufConvertOptions& opt, std::string* warning) {
  const TextConfig& c = model.config.text;
  G3N_ASSIGN_OR_RETURN(std::vector<GgufTensorPlan> plan, PlanGgufTensors(model, opt));
  for (const GgufTensorPlan& p : plan)
    if (IsBlockQuantized(p.type) && !IsQuantizable(p.type))
      return Error("quantize: type " + std::string(DTypeName(p.type)) + " (tensor '" + p.name + "') is not supported yet");

  GgufWriter w;
  const std::string arch = "gemma3n", k = arch + ".";
  uint64_t n_params = 0;
  for (const GgufTensorPlan& p : plan) {
    uint64_t n = 1;
    for (int64_t d : p.ne) n *= static_cast<uint64_t>(d);
    n_params += n;
  }
  // Metadata in the order convert_hf_to_gguf.py writes it.
  w.AddString("general.architecture", arch);
  w.AddString("general.type", "model");
  AddGenerationSampling(hf_dir, w);
  w.AddString("general.name", NameFromDir(hf_dir));
  w.AddString("general.size_label", SizeLabel(n_params));
  w.AddU32(k + "block_count", static_cast<uint32_t>(c.num_layers));
  w.AddU32(k + "context_length", static_cast<uint32_t>(c.max_position_embeddings));
  w.AddU32(k + "embedding_length", static_cast<uint32_t>(c.hidden_size));
  w.AddI32Array(k + "feed_forward_length", std::vector<int32_t>(c.intermediate_size.begin(), c.intermediate_size.end()));
  w.AddU32(k + "attention.head_count", static_cast<uint32_t>(c.num_heads));
  w.AddU32(k + "attention.head_count_kv", static_cast<uint32_t>(c.num_kv_heads));
  w.AddF32(k + "rope.freq_base", c.rope_theta_global);
  w.AddF32(k + "rope.freq_base_swa", c.rope_theta_local);
  w.AddF32(k + "attention.layer_norm_rms_epsilon", c.rms_norm_eps);
  w.AddU32(k + "attention.key_length", static_cast<uint32_t>(c.head_dim));
  w.AddU32(k + "attention.value_length", static_cast<uint32_t>(c.head_dim));
  w.AddU32("general.file_type", GgufFileType(opt.mix));
  if (c.final_logit_softcap > 0.0f) w.AddF32(k + "final_logit_softcapping", c.final_logit_softcap);
  w.AddU32(k + "attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
  w.AddU32(k + "altup.active_idx", static_cast<uint32_t>(c.altup_active_idx));
  w.AddU32(k + "altup.num_inputs", static_cast<uint32_t>(c.altup_num_inputs));
  w.AddU32(k + "embedding_length_per_layer_input", static_cast<uint32_t>(c.per_layer_dim));
  w.AddU32(k + "attention.shared_kv_layers", static_cast<uint32_t>(c.num_kv_shared_layers));
  std::vector<float> scale;
  for (float s : c.activation_sparsity) {
    // Phi^-1(s) as the converter's torch fp32 Normal.icdf rounds it: sqrt(2) * erfinv(2s - 1),
    // each step in fp32 (1.6448535919 for 0.95; -inf for 0).
    const float a = 2.0f * s - 1.0f;
    const float e = static_cast<float>(NormalQuantile((static_cast<double>(a) + 1.0) / 2.0) / std::sqrt(2.0));
    scale.push_back(e * static_cast<float>(std::sqrt(2.0)));
  }
  w.AddF32Array(k + "activation_sparsity_scale", scale);
  std::vector<bool> swa;
  for (LayerType t : c.layer_types) swa.push_back(t == LayerType::Sliding);
  w.AddBoolArray(k + "attention.sliding_window_pattern", swa);
  w.AddU32("general.quantization_version", 2);
  if (fs::is_regular_file(fs::path(hf_dir) / "tokenizer.model") || fs::is_regular_file(fs::path(hf_dir) / "tokenizer.json")) {
    G3N_ASSIGN_OR_RETURN(HfVocab vocab, ReadHfVocab(hf_dir, c.vocab_size));
    WriteGgufVocab(vocab, w);
    if (!fs::is_regular_file(fs::path(hf_dir) / "tokenizer.model") && warning != nullptr)
      *warning = hf_dir + " has no tokenizer.model: the GGUF's SentencePiece scores are rebuilt from tokenizer.json's merge ranks";
  } else if (warning != nullptr) {
    *warning = hf_dir + " has no tokenizer: the GGUF gets none (llama.cpp will not load it)";
  }

  for (const GgufTensorPlan& p : plan) w.AddTensor(p.name, p.ne, p.type);
  uint64_t total_bytes = 0, done_bytes = 0;
  for (size_t i = 0; i < plan.size(); ++i) total_bytes += w.TensorBytes(i);
  G3N_RETURN_IF_ERROR(w.Begin(out_path));

  std::vector<float> row;
  std::vector<uint8_t> enc;
  for (size_t i = 0; i < plan.size(); ++i) {
    const GgufTensorPlan& p = plan[i];
    const int64_t cols = p.ne[0];
    row.resize(static_cast<size_t>(cols));
    enc.resize(RowBytes(p.type, cols));
    auto emit = [&](const float* r) -> Status {
      G3N_RETURN_IF_ERROR(EncodeRow(p.type, r, cols, enc.data(), p.name));
      return w.Append(enc.data(), enc.size());
    };
    int64_t total_rows = 1;
    for (size_t d = 1; d < p.ne.size(); ++d) total_rows *= p.ne[d];
    if (p.sources.empty()) {
      std::fill(row.begin(), row.end(), 0.0f);
      for (int64_t r = 0; r < total_rows; ++r) G3N_RETURN_IF_ERROR(emit(row.data()));
    } else {
      for (const TensorView* t : p.sources) {
        const int64_t rows = t->numel() / cols;
        const size_t rb = static_cast<size_t>(cols) * DTypeSize(t->dtype);
        for (int64_t r = 0; r < rows; ++r) {
          RowToF32(t->dtype, t->data + static_cast<size_t>(r) * rb, cols, row.data());
          G3N_RETURN_IF_ERROR(emit(row.data()));
        }
      }
      std::fill(row.begin(), row.end(), 0.0f);
      for (int64_t r = 0; r < p.pad_rows; ++r) G3N_RETURN_IF_ERROR(emit(row.data()));
    }
    done_bytes += w.TensorBytes(i);
    if (opt.progress) opt.progress(i + 1, plan.size(), done_bytes, total_bytes, p.name);
  }
  return w.Finish();
}

}  // namespace g3n
