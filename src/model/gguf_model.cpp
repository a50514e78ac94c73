#include "model/gguf_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ops.h"

namespace g3n {
namespace {

const std::string kArch = "gemma3n";
const std::string kP = "gemma3n.";

std::string NeString(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

// ggml shapes compare equal when they differ only by trailing 1s ([32] == [32, 1]).
bool SameShape(std::vector<int64_t> a, std::vector<int64_t> b) {
  while (a.size() > 1 && a.back() == 1) a.pop_back();
  while (b.size() > 1 && b.back() == 1) b.pop_back();
  return a == b;
}

Result<int> IntKey(const GgufFile& f, const std::string& key, int64_t def, bool required, int64_t lo, int64_t hi) {
  int64_t v = def;
  if (required || f.Find(key)) {
    G3N_ASSIGN_OR_RETURN(v, f.GetInt(key));
  }
  if (v < lo || v > hi)
    return Error(f.Where(key) + " = " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
                 std::to_string(hi) + "]");
  return static_cast<int>(v);
}

Result<float> FloatKey(const GgufFile& f, const std::string& key, double def, bool required) {
  double v = def;
  if (required || f.Find(key)) {
    G3N_ASSIGN_OR_RETURN(v, f.GetFloat(key));
  }
  if (!std::isfinite(v)) return Error(f.Where(key) + " is not finite");
  return static_cast<float>(v);
}

// A scalar or a per-layer array (llama.cpp's get_key_or_arr).
Result<std::vector<int>> IntPerLayer(const GgufFile& f, const std::string& key, int L) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return Error(f.path() + ": missing metadata key '" + key + "'");
  std::vector<int64_t> vals;
  if (v->type == GgufType::Array) {
    G3N_ASSIGN_OR_RETURN(vals, f.GetIntArray(key));
    if (static_cast<int>(vals.size()) != L)
      return Error(f.Where(key) + " has " + std::to_string(vals.size()) + " entries, block_count is " + std::to_string(L));
  } else {
    G3N_ASSIGN_OR_RETURN(int64_t x, f.GetInt(key));
    vals.assign(L, x);
  }
  std::vector<int> out;
  for (int64_t x : vals) {
    if (x <= 0 || x > (1 << 24)) return Error(f.Where(key) + " has entry " + std::to_string(x) + " outside [1, 2^24]");
    out.push_back(static_cast<int>(x));
  }
  return out;
}

bool BlockIsZero(DType t, const uint8_t* b) {
  // Every ggml block format stores its fp16/fp32 scale(s) at fixed places; an all-zero input
  // quantizes to zero scales, so a zero scale means the block dequantizes to zeros.
  auto zero16 = [&](size_t off) { return b[off] == 0 && (b[off + 1] & 0x7f) == 0; };
  switch (t) {
    case DType::Q4_0: case DType::Q5_0: case DType::Q8_0: return zero16(0);
    case DType::Q4_1: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K: return zero16(0) && zero16(2);
    case DType::Q6_K: return zero16(208);
    case DType::Q8_K: { float d; std::memcpy(&d, b, 4); return d == 0.0f; }
    default: return false;
  }
}

bool RowIsZero(const GgufTensor& t, int64_t r) {
  const int64_t cols = t.ne[0];
  const size_t rb = RowBytes(t.dtype, cols);
  const uint8_t* p = t.data + static_cast<size_t>(r) * rb;
  if (IsBlockQuantized(t.dtype)) {
    for (size_t o = 0; o < rb; o += BlockBytes(t.dtype))
      if (!BlockIsZero(t.dtype, p + o)) return false;
    return true;
  }
  // Plain types: +0 and -0 both count (sign bit ignored).
  const size_t es = DTypeSize(t.dtype);
  for (size_t o = 0; o < rb; o += es) {
    for (size_t k = 0; k + 1 < es; ++k)
      if (p[o + k] != 0) return false;
    if ((p[o + es - 1] & 0x7f) != 0) return false;
  }
  return true;
}

// Tensor lookup with shape/type checks; the first failure sticks, like weights.cpp's Binder.
class GgufBinder {
 public:
  explicit GgufBinder(const GgufFile& f) : f_(f) {}
  Status status() const { return st_; }

  const GgufTensor* Get(const std::string& name, const std::vector<int64_t>& ne, bool matrix) {
    if (!st_.ok()) return nullptr;
    const GgufTensor* t = f_.FindTensor(name);
    if (t == nullptr) {
      st_ = Error(f_.path() + ": missing tensor '" + name + "' (expected ggml shape " + NeString(ne) + ")");
      return nullptr;
    }
    const std::string where = f_.path() + ": tensor '" + t->name + "' (info at byte " + std::to_string(t->info_offset) + ")";
    if (!SameShape(t->ne, ne)) {
      st_ = Error(where + " has ggml shape " + NeString(t->ne) + ", expected " + NeString(ne) + " from the metadata");
      return nullptr;
    }
    const bool plain = t->dtype == DType::F32 || t->dtype == DType::F16 || t->dtype == DType::BF16;
    if (!plain && !(matrix && IsBlockQuantized(t->dtype))) {
      st_ = Error(where + " has type " + GgmlTypeName(t->ggml_type) +
                  (matrix ? "; expected F32, F16, BF16 or a block type" : "; norms and coefficients must be F32, F16 or BF16"));
      return nullptr;
    }
    return t;
  }

  // HF [rows = out, cols = in] from ggml [in, out] (count > 1: `index` of `count` stacked ones).
  WeightMatrix Matrix(const std::string& name, int64_t rows, int64_t cols, int index = 0, int count = 1) {
    std::vector<int64_t> ne = {cols, rows};
    if (count > 1) ne.push_back(count);
    const GgufTensor* t = Get(name, ne, true);
    WeightMatrix m;
    if (t == nullptr) return m;
    m.dtype = t->dtype;
    m.rows = rows;
    m.cols = cols;
    m.row_stride = RowBytes(t->dtype, cols);
    m.data = t->data + static_cast<size_t>(index) * static_cast<size_t>(rows) * m.row_stride;
    return m;
  }

  Vec Vector(const std::string& name, const std::vector<int64_t>& ne) {
    const GgufTensor* t = Get(name, ne, false);
    if (t == nullptr) return {};
    Vec v(static_cast<size_t>(t->numel()));
    RowToF32(t->dtype, t->data, t->numel(), v.data());
    return v;
  }

 private:
  const GgufFile& f_;
  Status st_;
};

void Clamp(Vec& v, float clip) {
  if (clip <= 0.0f) return;
  for (float& x : v) x = std::clamp(x, -clip, clip);
}

Status ReadLayerTypes(const GgufFile& f, TextConfig& c) {
  const int L = c.num_layers;
  const std::string key = kP + "attention.sliding_window_pattern";
  c.layer_types.clear();
  const GgufValue* v = f.Find(key);
  if (v == nullptr) {  // llama.cpp's default pattern for gemma3n: 4 sliding layers, then 1 full
    for (int i = 0; i < L; ++i) c.layer_types.push_back(i % 5 < 4 ? LayerType::Sliding : LayerType::Full);
    return Status();
  }
  if (v->type != GgufType::Array) {
    // A scalar period n (llama.cpp's older form): layer i is sliding iff i % n < n - 1.
    G3N_ASSIGN_OR_RETURN(int n, IntKey(f, key, 0, true, 0, 1 << 20));
    for (int i = 0; i < L; ++i)
      c.layer_types.push_back(n > 0 && i % n < n - 1 ? LayerType::Sliding : LayerType::Full);
    return Status();
  }
  G3N_ASSIGN_OR_RETURN(std::vector<int64_t> pat, f.GetIntArray(key));
  if (static_cast<int>(pat.size()) != L)
    return Error(f.Where(key) + " has " + std::to_string(pat.size()) + " entries, block_count is " + std::to_string(L));
  for (int64_t b : pat) c.layer_types.push_back(b != 0 ? LayerType::Sliding : LayerType::Full);
  return Status();
}

Status ReadSparsity(const GgufFile& f, TextConfig& c) {
  const int L = c.num_layers;
  const std::string key = kP + "activation_sparsity_scale";
  c.activation_sparsity.assign(L, 0.0f);
  if (f.Find(key) == nullptr) {  // llama.cpp: n_layer_sparsity = 10 at Phi^-1(0.95)
    for (int i = 0; i < std::min(L, 10); ++i) c.activation_sparsity[i] = 0.95f;
    return Status();
  }
  G3N_ASSIGN_OR_RETURN(std::vector<double> scale, f.GetFloatArray(key));
  if (static_cast<int>(scale.size()) != L)
    return Error(f.Where(key) + " has " + std::to_string(scale.size()) + " entries, block_count is " + std::to_string(L));
  for (int i = 0; i < L; ++i) {
    const double s = scale[i];
    if (!std::isfinite(s) || s <= 0.0) continue;  // -inf (sparsity 0), NaN, <= 0: dense
    // Phi(s): the decoder takes Phi^-1 of this back to the same multiplier.
    const double p = 0.5 * std::erfc(-s / std::sqrt(2.0));
    if (!(p < 1.0)) return Error(f.Where(key) + " entry " + std::to_string(i) + " = " + std::to_string(s) + " is too large");
    c.activation_sparsity[i] = static_cast<float>(p);
  }
  return Status();
}

// Special ids and stop tokens from the vocabulary metadata, read without copying the 262k
// tokens (the tokenizer itself is built only when text is asked for).
Status ReadGeneration(const GgufFile& f, bool has_tokenizer, GenerationConfig& g) {
  if (has_tokenizer) {
    const int64_t n = static_cast<int64_t>(f.Find("tokenizer.ggml.tokens") ? f.Find("tokenizer.ggml.tokens")->array_size() : 0);
    auto id = [&](const char* name) -> Result<int64_t> {
      const std::string key = std::string("tokenizer.ggml.") + name + "_token_id";
      G3N_ASSIGN_OR_RETURN(int64_t v, f.GetIntOr(key, -1));
      if (v < -1 || v >= n)
        return Error(f.Where(key) + " = " + std::to_string(v) + " is outside the " + std::to_string(n) + "-token vocabulary");
      return v;
    };
    G3N_ASSIGN_OR_RETURN(int64_t bos, id("bos"));
    G3N_ASSIGN_OR_RETURN(int64_t pad, id("padding"));
    if (bos >= 0) g.bos_token_id = static_cast<int>(bos);
    if (pad >= 0) g.pad_token_id = static_cast<int>(pad);
    std::vector<int> eos;
    auto add = [&](int64_t i) {
      if (i >= 0 && std::find(eos.begin(), eos.end(), i) == eos.end()) eos.push_back(static_cast<int>(i));
    };
    for (const char* name : {"eos", "eot", "eom"}) {
      G3N_ASSIGN_OR_RETURN(int64_t v, id(name));
      add(v);
    }
    // llama.cpp also ends generation on these by text (Gemma IT stops on <end_of_turn>).
    G3N_ASSIGN_OR_RETURN(int64_t eot, f.IndexOfString("tokenizer.ggml.tokens", "<end_of_turn>"));
    add(eot);
    if (!eos.empty()) g.eos_token_ids = eos;
  }
  bool any = false;
  auto num = [&](const char* key, float& out) {
    auto r = f.GetFloat(std::string("general.sampling.") + key);
    if (r.ok()) { out = static_cast<float>(*r); any = true; }
  };
  float top_k = -1.0f;
  num("top_k", top_k);
  if (top_k >= 0.0f) g.top_k = static_cast<int>(top_k);
  num("top_p", g.top_p);
  num("temp", g.temperature);
  num("min_p", g.min_p);
  num("penalty_repeat", g.repetition_penalty);
  if (any) g.do_sample = g.temperature > 0.0f;
  return Status();
}

}  // namespace

Result<int64_t> CountTrailingZeroRows(const GgufTensor& t) {
  if (t.ne.size() < 2) return int64_t{0};
  const int64_t rows = t.numel() / t.ne[0];
  int64_t n = 0;
  while (n < rows && RowIsZero(t, rows - 1 - n)) ++n;
  return n;
}

Result<ModelConfig> GgufModelConfig(const GgufFile& f) {
  G3N_RETURN_IF_ERROR(CheckGgufArchitecture(f, kArch));
  ModelConfig mc;
  mc.source = f.path();
  TextConfig& c = mc.text;
  const int kMaxDim = 1 << 20;
  G3N_ASSIGN_OR_RETURN(c.num_layers, IntKey(f, kP + "block_count", 0, true, 1, 4096));
  G3N_ASSIGN_OR_RETURN(c.hidden_size, IntKey(f, kP + "embedding_length", 0, true, 1, kMaxDim));
  G3N_ASSIGN_OR_RETURN(c.max_position_embeddings, IntKey(f, kP + "context_length", 0, true, 1, 1 << 30));
  const int L = c.num_layers;
  G3N_ASSIGN_OR_RETURN(std::vector<int> heads, IntPerLayer(f, kP + "attention.head_count", L));
  std::vector<int> kv_heads = heads;
  if (f.Find(kP + "attention.head_count_kv")) {
    G3N_ASSIGN_OR_RETURN(kv_heads, IntPerLayer(f, kP + "attention.head_count_kv", L));
  }
  for (int l = 1; l < L; ++l)
    if (heads[l] != heads[0] || kv_heads[l] != kv_heads[0])
      return Error(f.Where(kP + "attention.head_count") + ": head counts differ between layers, which Gemma 3n never does");
  c.num_heads = heads[0];
  c.num_kv_heads = kv_heads[0];
  if (c.num_heads % c.num_kv_heads != 0)
    return Error(f.Where(kP + "attention.head_count") + ": " + std::to_string(c.num_heads) +
                 " heads is not a multiple of " + std::to_string(c.num_kv_heads) + " KV heads");
  G3N_ASSIGN_OR_RETURN(c.head_dim, IntKey(f, kP + "attention.key_length", c.hidden_size / c.num_heads, false, 2, 1 << 16));
  G3N_ASSIGN_OR_RETURN(int vdim, IntKey(f, kP + "attention.value_length", c.head_dim, false, 1, 1 << 16));
  if (vdim != c.head_dim)
    return Error(f.Where(kP + "attention.value_length") + " = " + std::to_string(vdim) + " differs from key_length " +
                 std::to_string(c.head_dim));
  if (c.head_dim % 2 != 0) return Error(f.Where(kP + "attention.key_length") + " must be even (RoPE rotates halves)");
  G3N_ASSIGN_OR_RETURN(c.intermediate_size, IntPerLayer(f, kP + "feed_forward_length", L));
  G3N_ASSIGN_OR_RETURN(c.rms_norm_eps, FloatKey(f, kP + "attention.layer_norm_rms_epsilon", 1e-6, true));
  G3N_ASSIGN_OR_RETURN(c.rope_theta_global, FloatKey(f, kP + "rope.freq_base", 10000.0, false));
  G3N_ASSIGN_OR_RETURN(c.rope_theta_local, FloatKey(f, kP + "rope.freq_base_swa", 10000.0, false));
  if (c.rope_theta_global <= 0 || c.rope_theta_local <= 0) return Error(f.path() + ": RoPE bases must be positive");
  G3N_ASSIGN_OR_RETURN(c.sliding_window, IntKey(f, kP + "attention.sliding_window", 0, true, 1, 1 << 30));
  G3N_ASSIGN_OR_RETURN(c.final_logit_softcap, FloatKey(f, kP + "final_logit_softcapping", 30.0, false));
  G3N_ASSIGN_OR_RETURN(c.altup_num_inputs, IntKey(f, kP + "altup.num_inputs", 4, false, 2, 64));
  G3N_ASSIGN_OR_RETURN(c.altup_active_idx, IntKey(f, kP + "altup.active_idx", 0, false, 0, c.altup_num_inputs - 1));
  G3N_ASSIGN_OR_RETURN(c.per_layer_dim, IntKey(f, kP + "embedding_length_per_layer_input", 256, false, 1, kMaxDim));
  G3N_ASSIGN_OR_RETURN(c.num_kv_shared_layers, IntKey(f, kP + "attention.shared_kv_layers", 0, false, 0, L - 1));
  G3N_RETURN_IF_ERROR(ReadLayerTypes(f, c));
  G3N_RETURN_IF_ERROR(ReadSparsity(f, c));

  // Sizes only the tensors tell.
  const GgufTensor* emb = f.FindTensor("token_embd.weight");
  if (emb == nullptr) return Error(f.path() + ": missing tensor 'token_embd.weight'");
  if (emb->ne.size() != 2 || emb->ne[1] <= 0 || emb->ne[1] > (1 << 30))
    return Error(f.path() + ": tensor 'token_embd.weight' has ggml shape " + NeString(emb->ne) + ", expected [" +
                 std::to_string(c.hidden_size) + ", vocab]");
  c.vocab_size = static_cast<int>(emb->ne[1]);
  const GgufTensor* ple = f.FindTensor("per_layer_token_embd.weight");
  if (ple == nullptr) return Error(f.path() + ": missing tensor 'per_layer_token_embd.weight'");
  if (ple->ne.size() != 2 || ple->ne[0] != static_cast<int64_t>(L) * c.per_layer_dim || ple->ne[1] <= 0 ||
      ple->ne[1] > c.vocab_size)
    return Error(f.path() + ": tensor 'per_layer_token_embd.weight' has ggml shape " + NeString(ple->ne) + ", expected [" +
                 std::to_string(static_cast<int64_t>(L) * c.per_layer_dim) + ", n] with n <= " +
                 std::to_string(c.vocab_size) + " (token_embd rows)");
  G3N_ASSIGN_OR_RETURN(int64_t zero_rows, CountTrailingZeroRows(*ple));
  c.vocab_size_per_layer_input = static_cast<int>(ple->ne[1] - zero_rows);
  if (c.vocab_size_per_layer_input <= 0)
    return Error(f.path() + ": tensor 'per_layer_token_embd.weight' holds only zeros");
  const GgufTensor* laurel = f.FindTensor("blk.0.laurel_l.weight");
  if (laurel == nullptr) return Error(f.path() + ": missing tensor 'blk.0.laurel_l.weight'");
  if (laurel->ne.size() != 2 || laurel->ne[1] <= 0 || laurel->ne[1] > kMaxDim)
    return Error(f.path() + ": tensor 'blk.0.laurel_l.weight' has ggml shape " + NeString(laurel->ne));
  c.laurel_rank = static_cast<int>(laurel->ne[1]);
  G3N_RETURN_IF_ERROR(DeriveKvRoles(c, f.path()));

  G3N_RETURN_IF_ERROR(ReadGeneration(f, f.Find("tokenizer.ggml.tokens") != nullptr, mc.generation));
  return mc;
}

Result<TextWeights> BindGgufWeights(const GgufFile& f, const TextConfig& c) {
  GgufBinder b(f);
  const int64_t H = c.hidden_size, L = c.num_layers, P = c.per_layer_dim, A = c.altup_num_inputs;
  const int64_t q_dim = static_cast<int64_t>(c.num_heads) * c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(c.num_kv_heads) * c.head_dim;
  TextWeights w;
  w.embed = b.Matrix("token_embd.weight", c.vocab_size, H);
  // The table may have zero-padded rows past vocab_size_per_layer_input; bind the real ones.
  if (const GgufTensor* t = f.FindTensor("per_layer_token_embd.weight")) {
    w.ple = b.Matrix("per_layer_token_embd.weight", t->ne.size() == 2 ? t->ne[1] : 0, L * P);
    w.ple = w.ple.FirstRows(c.vocab_size_per_layer_input);
  } else {
    w.ple = b.Matrix("per_layer_token_embd.weight", c.vocab_size_per_layer_input, L * P);
  }
  w.ple_projection = b.Matrix("per_layer_model_proj.weight", L * P, H);
  w.ple_projection_norm = b.Vector("per_layer_proj_norm.weight", {P});
  for (int k = 0; k + 1 < A; ++k) {
    w.altup_proj.push_back(b.Matrix("altup_proj.weight", H, H, k, static_cast<int>(A - 1)));
    w.altup_unembed.push_back(b.Matrix("altup_unembd_proj.weight", H, H, k, static_cast<int>(A - 1)));
  }
  w.final_norm = b.Vector("output_norm.weight", {H});
  // llama.cpp writes no output.weight for Gemma 3n (the head is tied); one that is present must
  // be the embedding again, which this engine does not read twice.
  for (int l = 0; l < L && b.status().ok(); ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const int64_t F = c.intermediate_size[l];
    const bool consumer = c.is_kv_consumer(l);
    LayerWeights lw;
    lw.input_norm = b.Vector(p + "attn_norm.weight", {H});
    lw.q = b.Matrix(p + "attn_q.weight", q_dim, H);
    // KV consumers never read their own k/v, but llama.cpp's files still carry them.
    if (!consumer || f.FindTensor(p + "attn_k.weight")) lw.k = b.Matrix(p + "attn_k.weight", kv_dim, H);
    if (!consumer || f.FindTensor(p + "attn_v.weight")) lw.v = b.Matrix(p + "attn_v.weight", kv_dim, H);
    lw.o = b.Matrix(p + "attn_output.weight", H, q_dim);
    lw.q_norm = b.Vector(p + "attn_q_norm.weight", {c.head_dim});
    if (!consumer) lw.k_norm = b.Vector(p + "attn_k_norm.weight", {c.head_dim});
    lw.post_attn_norm = b.Vector(p + "post_attention_norm.weight", {H});
    lw.pre_ffn_norm = b.Vector(p + "ffn_norm.weight", {H});
    lw.gate = b.Matrix(p + "ffn_gate.weight", F, H);
    lw.up = b.Matrix(p + "ffn_up.weight", F, H);
    lw.down = b.Matrix(p + "ffn_down.weight", H, F);
    lw.post_ffn_norm = b.Vector(p + "post_ffw_norm.weight", {H});
    lw.altup_correct_scale = b.Vector(p + "altup_correct_scale.weight", {H});
    lw.altup_correction = b.Vector(p + "altup_correct_coef.weight", {A, A});
    lw.altup_prediction = b.Vector(p + "altup_predict_coef.weight", {A, A * A});
    lw.altup_router = b.Matrix(p + "altup_router.weight", A, H);
    lw.altup_router_norm = b.Vector(p + "altup_router_norm.weight", {H});
    lw.laurel_left = b.Matrix(p + "laurel_l.weight", c.laurel_rank, H);
    lw.laurel_right = b.Matrix(p + "laurel_r.weight", H, c.laurel_rank);
    lw.laurel_post_norm = b.Vector(p + "laurel_post_norm.weight", {H});
    lw.per_layer_gate = b.Matrix(p + "inp_gate.weight", P, H);
    lw.per_layer_proj = b.Matrix(p + "proj.weight", H, P);
    lw.post_per_layer_norm = b.Vector(p + "post_norm.weight", {H});
    Clamp(lw.altup_correction, c.altup_coef_clip);
    Clamp(lw.altup_prediction, c.altup_coef_clip);
    w.layers.push_back(std::move(lw));
  }
  G3N_RETURN_IF_ERROR(b.status());
  return w;
}

}  // namespace g3n
