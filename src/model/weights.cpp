#include "model/weights.h"

#include <algorithm>
#include <filesystem>

#include "kernels/ops.h"

namespace g3n {
namespace {

// Looks tensors up by name under a prefix and checks them against the expected shape.
class Binder {
 public:
  Binder(const Checkpoint& ck, std::string prefix) : ck_(ck), prefix_(std::move(prefix)) {}
  Status status() const { return st_; }

  const TensorView* Get(const std::string& name, const std::vector<int64_t>& shape, bool required = true) {
    if (!st_.ok()) return nullptr;
    const std::string full = prefix_ + name;
    const TensorView* t = ck_.Find(full);
    if (t == nullptr) {
      if (required) {
        std::string files;
        for (const auto& f : ck_.files)
          files += (files.empty() ? "" : ", ") + std::filesystem::path(f.file->path()).filename().string();
        st_ = Error(ck_.dir + ": missing tensor '" + full + "' (not in " + (files.empty() ? "any file" : files) + ")");
      }
      return nullptr;
    }
    st_ = CheckFloatTensor(*t, full, shape, "config.json");
    return st_.ok() ? t : nullptr;
  }

  WeightMatrix Matrix(const std::string& name, int64_t rows, int64_t cols, bool required = true) {
    const TensorView* t = Get(name, {rows, cols}, required);
    WeightMatrix m;
    if (t == nullptr) return m;
    m.dtype = t->dtype;
    m.data = t->data;
    m.rows = rows;
    m.cols = cols;
    m.row_stride = RowBytes(t->dtype, cols);
    return m;
  }

  Vec Vector(const std::string& name, const std::vector<int64_t>& shape) {
    const TensorView* t = Get(name, shape);
    if (t == nullptr) return {};
    Vec v(static_cast<size_t>(t->numel()));
    RowToF32(t->dtype, t->data, t->numel(), v.data());
    return v;
  }

 private:
  const Checkpoint& ck_;
  std::string prefix_;
  Status st_;
};

void Clamp(Vec& v, float clip) {
  if (clip <= 0.0f) return;
  for (float& x : v) x = std::clamp(x, -clip, clip);
}

// A column prefix (a sub-model's narrower down projection) reads only the start of each row.
size_t Bytes(const WeightMatrix& m) {
  if (!m.data) return 0;
  const size_t used = RowBytes(m.dtype, m.cols);
  return (used > 0 ? std::min(used, m.row_stride) : m.row_stride) * static_cast<size_t>(m.rows);
}
size_t Bytes(const Vec& v) { return v.size() * sizeof(float); }

}  // namespace

size_t ResidentWeightBytes(const TextWeights& w) {
  size_t n = Bytes(w.embed) + Bytes(w.ple_projection_norm) + Bytes(w.final_norm);
  // A sub-model multiplies only its kept layers' P-row slices of the PLE projection.
  if (w.ple_slices.empty()) {
    n += Bytes(w.ple_projection);
  } else if (w.ple_projection.data) {
    n += w.ple_slices.size() * w.ple_projection_norm.size() * w.ple_projection.row_stride;
  }
  for (const auto& m : w.altup_proj) n += Bytes(m);
  for (const auto& m : w.altup_unembed) n += Bytes(m);
  for (const LayerWeights& l : w.layers) {
    for (const WeightMatrix* m : {&l.q, &l.o, &l.gate, &l.up, &l.down, &l.altup_router, &l.laurel_left,
                                  &l.laurel_right, &l.per_layer_gate, &l.per_layer_proj})
      n += Bytes(*m);
    if (!l.k_norm.empty()) n += Bytes(l.k) + Bytes(l.v);  // consumers never read theirs
    for (const Vec* v : {&l.input_norm, &l.post_attn_norm, &l.pre_ffn_norm, &l.post_ffn_norm, &l.q_norm, &l.k_norm,
                         &l.altup_correct_scale, &l.altup_correction, &l.altup_prediction, &l.altup_router_norm,
                         &l.laurel_post_norm, &l.post_per_layer_norm})
      n += Bytes(*v);
  }
  return n;
}

Result<TextWeights> BindTextWeights(const Checkpoint& ck, const TextConfig& c) {
  // Multimodal checkpoints nest the decoder under model.language_model.; a text-only
  // Gemma3nForCausalLM save uses model.
  std::string prefix = "model.language_model.";
  if (ck.Find(prefix + "embed_tokens.weight") == nullptr && ck.Find("model.embed_tokens.weight") != nullptr)
    prefix = "model.";
  Binder b(ck, prefix);
  const int64_t H = c.hidden_size, L = c.num_layers, P = c.per_layer_dim, A = c.altup_num_inputs;
  const int64_t q_dim = static_cast<int64_t>(c.num_heads) * c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(c.num_kv_heads) * c.head_dim;
  TextWeights w;
  w.embed = b.Matrix("embed_tokens.weight", c.vocab_size, H);
  w.ple = b.Matrix("embed_tokens_per_layer.weight", c.vocab_size_per_layer_input, L * P);
  for (const auto& f : ck.files)
    if (f.file->Contains(w.ple.data)) w.ple_file = f.file;
  w.ple_projection = b.Matrix("per_layer_model_projection.weight", L * P, H);
  w.ple_projection_norm = b.Vector("per_layer_projection_norm.weight", {P});
  for (int k = 0; k + 1 < A; ++k) {
    w.altup_proj.push_back(b.Matrix("altup_projections." + std::to_string(k) + ".weight", H, H));
    w.altup_unembed.push_back(b.Matrix("altup_unembed_projections." + std::to_string(k) + ".weight", H, H));
  }
  w.final_norm = b.Vector("norm.weight", {H});
  for (int l = 0; l < L && b.status().ok(); ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    const int64_t F = c.intermediate_size[l];
    const bool consumer = c.is_kv_consumer(l);
    LayerWeights lw;
    lw.input_norm = b.Vector(p + "input_layernorm.weight", {H});
    lw.q = b.Matrix(p + "self_attn.q_proj.weight", q_dim, H);
    lw.k = b.Matrix(p + "self_attn.k_proj.weight", kv_dim, H, !consumer);
    lw.v = b.Matrix(p + "self_attn.v_proj.weight", kv_dim, H, !consumer);
    lw.o = b.Matrix(p + "self_attn.o_proj.weight", H, q_dim);
    lw.q_norm = b.Vector(p + "self_attn.q_norm.weight", {c.head_dim});
    if (!consumer) lw.k_norm = b.Vector(p + "self_attn.k_norm.weight", {c.head_dim});
    lw.post_attn_norm = b.Vector(p + "post_attention_layernorm.weight", {H});
    lw.pre_ffn_norm = b.Vector(p + "pre_feedforward_layernorm.weight", {H});
    lw.gate = b.Matrix(p + "mlp.gate_proj.weight", F, H);
    lw.up = b.Matrix(p + "mlp.up_proj.weight", F, H);
    lw.down = b.Matrix(p + "mlp.down_proj.weight", H, F);
    lw.post_ffn_norm = b.Vector(p + "post_feedforward_layernorm.weight", {H});
    lw.altup_correct_scale = b.Vector(p + "altup.correct_output_scale", {H});
    lw.altup_correction = b.Vector(p + "altup.correction_coefs.weight", {A, A});
    lw.altup_prediction = b.Vector(p + "altup.prediction_coefs.weight", {A * A, A});
    lw.altup_router = b.Matrix(p + "altup.modality_router.weight", A, H);
    lw.altup_router_norm = b.Vector(p + "altup.router_norm.weight", {H});
    lw.laurel_left = b.Matrix(p + "laurel.linear_left.weight", c.laurel_rank, H);
    lw.laurel_right = b.Matrix(p + "laurel.linear_right.weight", H, c.laurel_rank);
    lw.laurel_post_norm = b.Vector(p + "laurel.post_laurel_norm.weight", {H});
    lw.per_layer_gate = b.Matrix(p + "per_layer_input_gate.weight", P, H);
    lw.per_layer_proj = b.Matrix(p + "per_layer_projection.weight", H, P);
    lw.post_per_layer_norm = b.Vector(p + "post_per_layer_input_norm.weight", {H});
    Clamp(lw.altup_correction, c.altup_coef_clip);
    Clamp(lw.altup_prediction, c.altup_coef_clip);
    w.layers.push_back(std::move(lw));
  }
  G3N_RETURN_IF_ERROR(b.status());
  return w;
}

}  // namespace g3n
