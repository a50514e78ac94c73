#include "vision/vision_weights.h"

#include "kernels/ops.h"

namespace g3n {
namespace {

const char kTower[] = "model.vision_tower.timm_model.";
const char kEmbed[] = "model.embed_vision.";

class Binder {
 public:
  explicit Binder(const Checkpoint& ck) : ck_(ck) {}
  Status status() const { return st_; }

  const TensorView* Get(const std::string& full, const std::vector<int64_t>& shape) {
    if (!st_.ok()) return nullptr;
    const TensorView* t = ck_.Find(full);
    if (t == nullptr) {
      st_ = Error(ck_.dir + ": missing vision tensor '" + full + "'");
      return nullptr;
    }
    st_ = CheckFloatTensor(*t, full, shape, "vision_config");
    return st_.ok() ? t : nullptr;
  }

  std::vector<float> Floats(const std::string& full, const std::vector<int64_t>& shape) {
    const TensorView* t = Get(full, shape);
    if (t == nullptr) return {};
    std::vector<float> v(static_cast<size_t>(t->numel()));
    RowToF32(t->dtype, t->data, t->numel(), v.data());
    return v;
  }

  WeightMatrix Matrix(const std::string& full, const std::vector<int64_t>& shape) {
    const TensorView* t = Get(full, shape);
    WeightMatrix m;
    if (t == nullptr) return m;
    m.dtype = t->dtype;
    m.data = t->data;
    m.rows = shape[0];
    m.cols = t->numel() / shape[0];
    m.row_stride = RowBytes(t->dtype, m.cols);
    return m;
  }

  std::vector<float> Norm(const std::string& name, int c) { return Floats(kTower + name, {c}); }
  WeightMatrix Pointwise(const std::string& name, int out, int in) { return Matrix(kTower + name, {out, in, 1, 1}); }

  DenseConv Dense(const std::string& name, int in, int out, int k, int stride) {
    DenseConv c{in, out, k, stride, {}, {}, {}};
    const std::vector<float> raw = Floats(kTower + name, {out, in, k, k});
    if (raw.empty()) return c;
    c.w.resize(raw.size());
    for (int o = 0; o < out; ++o)
      for (int i = 0; i < in; ++i)
        for (int y = 0; y < k; ++y)
          for (int x = 0; x < k; ++x)
            c.w[((static_cast<size_t>(o) * k + y) * k + x) * in + i] = raw[((static_cast<size_t>(o) * in + i) * k + y) * k + x];
    return c;
  }

  DepthwiseConv Depthwise(const std::string& name, int channels, int k, int stride) {
    DepthwiseConv c{channels, k, stride, {}};
    const std::vector<float> raw = Floats(kTower + name, {channels, 1, k, k});
    if (raw.empty()) return c;
    c.w.resize(raw.size());
    for (int ch = 0; ch < channels; ++ch)
      for (int t = 0; t < k * k; ++t) c.w[static_cast<size_t>(t) * channels + ch] = raw[static_cast<size_t>(ch) * k * k + t];
    return c;
  }

 private:
  const Checkpoint& ck_;
  Status st_;
};

VisionBlock BindBlock(Binder& b, const std::string& p, const BlockSpec& s, int in) {
  VisionBlock blk;
  blk.spec = s;
  blk.in = in;
  blk.out = s.out;
  blk.residual = in == s.out && s.stride == 1;
  switch (s.kind) {
    case BlockKind::EdgeResidual:
      blk.mid = MakeDivisible(in * s.exp_ratio);
      blk.conv_exp = b.Dense(p + "conv_exp.weight", in, blk.mid, s.kernel, s.stride);
      blk.bn1 = b.Norm(p + "bn1.weight", blk.mid);
      blk.conv_pwl = b.Pointwise(p + "conv_pwl.weight", s.out, blk.mid);
      blk.bn2 = b.Norm(p + "bn2.weight", s.out);
      break;
    case BlockKind::UniversalInvertedResidual: {
      blk.mid = MakeDivisible(in * s.exp_ratio);
      // The stride sits on the middle depthwise conv when there is one, else on the first.
      if (s.dw_start > 0) {
        blk.dw_start = b.Depthwise(p + "dw_start.conv.weight", in, s.dw_start, s.dw_mid > 0 ? 1 : s.stride);
        blk.dw_start_bn = b.Norm(p + "dw_start.bn.weight", in);
      }
      blk.pw_exp = b.Pointwise(p + "pw_exp.conv.weight", blk.mid, in);
      blk.pw_exp_bn = b.Norm(p + "pw_exp.bn.weight", blk.mid);
      if (s.dw_mid > 0) {
        blk.dw_mid = b.Depthwise(p + "dw_mid.conv.weight", blk.mid, s.dw_mid, s.stride);
        blk.dw_mid_bn = b.Norm(p + "dw_mid.bn.weight", blk.mid);
      }
      blk.pw_proj = b.Pointwise(p + "pw_proj.conv.weight", s.out, blk.mid);
      blk.pw_proj_bn = b.Norm(p + "pw_proj.bn.weight", s.out);
      blk.layer_scale = b.Norm(p + "layer_scale.gamma", s.out);
      break;
    }
    case BlockKind::MobileAttention: {
      const int hd = s.heads * s.kv_dim;
      blk.mid = hd;
      blk.norm = b.Norm(p + "norm.weight", in);
      blk.query = b.Pointwise(p + "attn.query.proj.weight", hd, in);
      blk.key = b.Pointwise(p + "attn.key.proj.weight", s.kv_dim, in);
      blk.value = b.Pointwise(p + "attn.value.proj.weight", s.kv_dim, in);
      blk.output = b.Pointwise(p + "attn.output.proj.weight", s.out, hd);
      if (s.kv_stride > 1) {
        blk.key_down = b.Depthwise(p + "attn.key.down_conv.weight", in, s.kernel, s.kv_stride);
        blk.key_norm = b.Norm(p + "attn.key.norm.weight", in);
        blk.value_down = b.Depthwise(p + "attn.value.down_conv.weight", in, s.kernel, s.kv_stride);
        blk.value_norm = b.Norm(p + "attn.value.norm.weight", in);
      }
      blk.layer_scale = b.Norm(p + "layer_scale.gamma", s.out);
      break;
    }
  }
  return blk;
}

}  // namespace

WeightMatrix DenseConv::matrix() const {
  if (requantized.data != nullptr) return requantized;
  WeightMatrix m;
  m.dtype = DType::F32;
  m.data = reinterpret_cast<const uint8_t*>(w.data());
  m.rows = out;
  m.cols = static_cast<int64_t>(k) * k * in;
  m.row_stride = static_cast<size_t>(m.cols) * sizeof(float);
  return m;
}

Result<VisionWeights> BindVisionWeights(const Checkpoint& ck, int text_hidden) {
  G3N_ASSIGN_OR_RETURN(VisionConfig c, ParseVisionConfig(ck.config_json, ck.dir + "/config.json"));
  if (ck.Find(std::string(kTower) + "conv_stem.conv.weight") == nullptr)
    return Error(ck.dir + ": checkpoint has no vision tower (no " + kTower + "conv_stem.conv.weight)");
  if (ck.Find(std::string(kTower) + "conv_stem.conv.bias") == nullptr)
    return Error(ck.dir + ": vision weights from the first (pre-July-2025) Gemma 3n upload (no conv_stem.conv.bias; "
                          "their conv kernels have H and W swapped); download the current revision");
  Binder b(ck);
  VisionWeights w;
  w.config = c;
  w.text_hidden = text_hidden;
  w.stem = b.Dense("conv_stem.conv.weight", 3, c.stem_size, 3, 2);
  w.stem.bias = b.Norm("conv_stem.conv.bias", c.stem_size);
  w.stem_bn = b.Norm("conv_stem.bn.weight", c.stem_size);
  int in = c.stem_size;
  for (size_t s = 0; s < c.stages.size(); ++s) {
    std::vector<VisionBlock> blocks;
    for (size_t i = 0; i < c.stages[s].size(); ++i) {
      const std::string p = "blocks." + std::to_string(s) + "." + std::to_string(i) + ".";
      blocks.push_back(BindBlock(b, p, c.stages[s][i], in));
      in = c.stages[s][i].out;
    }
    w.stages.push_back(std::move(blocks));
  }
  const int f2 = c.stages[c.stages.size() - 2].back().out, f3 = c.stages.back().back().out;
  const int msfa_in = f2 + f3, msfa_mid = MakeDivisible(msfa_in * c.msfa_expansion);
  w.msfa_pw_exp = b.Pointwise("msfa.ffn.pw_exp.conv.weight", msfa_mid, msfa_in);
  w.msfa_pw_exp_bn = b.Norm("msfa.ffn.pw_exp.bn.weight", msfa_mid);
  w.msfa_pw_proj = b.Pointwise("msfa.ffn.pw_proj.conv.weight", c.hidden_size, msfa_mid);
  w.msfa_pw_proj_bn = b.Norm("msfa.ffn.pw_proj.bn.weight", c.hidden_size);
  w.msfa_norm = b.Norm("msfa.norm.weight", c.hidden_size);
  const std::string e = kEmbed;
  w.embed_table = b.Matrix(e + "embedding.weight", {c.vocab_size, c.hidden_size});
  w.embed_projection = b.Matrix(e + "embedding_projection.weight", {text_hidden, c.hidden_size});
  w.hard_norm = b.Floats(e + "hard_embedding_norm.weight", {c.hidden_size});
  w.soft_norm = b.Floats(e + "soft_embedding_norm.weight", {c.hidden_size});
  G3N_RETURN_IF_ERROR(b.status());
  return w;
}

void RequantizeVisionWeights(VisionWeights* w, DType type, ThreadPool* pool) {
  w->store = WeightStore(type);
  WeightStore& s = w->store;
  auto dense = [&](DenseConv* c) {
    if (c->w.empty()) return;
    c->requantized = c->matrix();
    s.RequantizeOwned(&c->requantized, &c->w, pool);
    if (!c->w.empty()) c->requantized = WeightMatrix{};  // kept as floats
  };
  dense(&w->stem);
  for (auto& stage : w->stages) {
    for (VisionBlock& b : stage) {
      dense(&b.conv_exp);
      for (WeightMatrix* m : {&b.conv_pwl, &b.pw_exp, &b.pw_proj, &b.query, &b.key, &b.value, &b.output})
        s.Requantize(m, pool);
    }
  }
  s.Requantize(&w->msfa_pw_exp, pool);
  s.Requantize(&w->msfa_pw_proj, pool);
  s.Requantize(&w->embed_projection, pool);
}

size_t ResidentBytes(const VisionWeights& w) {
  size_t n = 0;
  auto m = [&](const WeightMatrix& x) { n += x.data ? x.row_stride * static_cast<size_t>(x.rows) : 0; };
  auto f = [&](const std::vector<float>& v) { n += v.size() * sizeof(float); };
  auto dense = [&](const DenseConv& c) {
    m(c.requantized);
    f(c.w);
    f(c.bias);
  };
  dense(w.stem);
  f(w.stem_bn);
  for (const auto& stage : w.stages) {
    for (const VisionBlock& b : stage) {
      dense(b.conv_exp);
      for (const WeightMatrix* x : {&b.conv_pwl, &b.pw_exp, &b.pw_proj, &b.query, &b.key, &b.value, &b.output}) m(*x);
      for (const auto* v : {&b.bn1, &b.bn2, &b.dw_start.w, &b.dw_mid.w, &b.dw_start_bn, &b.dw_mid_bn, &b.pw_exp_bn,
                            &b.pw_proj_bn, &b.layer_scale, &b.norm, &b.key_norm, &b.value_norm, &b.key_down.w,
                            &b.value_down.w})
        f(*v);
    }
  }
  for (const WeightMatrix* x : {&w.msfa_pw_exp, &w.msfa_pw_proj, &w.embed_table, &w.embed_projection}) m(*x);
  for (const auto* v : {&w.msfa_pw_exp_bn, &w.msfa_pw_proj_bn, &w.msfa_norm, &w.hard_norm, &w.soft_norm}) f(*v);
  return n;
}

Result<VisionWeights> BindVisionWeights(const Model& model) {
  if (model.from_gguf) return Error(model.checkpoint.dir + ": image input needs an HF checkpoint folder (GGUF has no vision tower here)");
  if (!model.config.multimodal) return Error(model.checkpoint.dir + ": text-only checkpoint; image input needs a multimodal Gemma 3n");
  return BindVisionWeights(model.checkpoint, model.config.text.hidden_size);
}

}  // namespace g3n
