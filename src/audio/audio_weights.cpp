#include "audio/audio_weights.h"

#include <filesystem>

#include "kernels/ops.h"
#include "model/model.h"

namespace g3n {
namespace {

// Name lookup under a prefix with the first error kept (later calls become no-ops).
class AudioBinder {
 public:
  AudioBinder(const Checkpoint& ck, std::string prefix) : ck_(ck), prefix_(std::move(prefix)) {}
  const Status& status() const { return st_; }

  const TensorView* Get(const std::string& name, const std::vector<int64_t>& shape) {
    if (!st_.ok()) return nullptr;
    const std::string full = prefix_ + name;
    const TensorView* t = ck_.Find(full);
    if (t == nullptr) {
      st_ = Error(ck_.dir + ": missing audio tensor '" + full + "'");
      return nullptr;
    }
    st_ = CheckFloatTensor(*t, full, shape, "audio_config");
    return st_.ok() ? t : nullptr;
  }

  WeightMatrix Matrix(const std::string& name, int64_t rows, int64_t cols) {
    WeightMatrix m;
    const TensorView* t = Get(name, {rows, cols});
    if (t == nullptr) return m;
    m.dtype = t->dtype;
    m.data = t->data;
    m.rows = rows;
    m.cols = cols;
    m.row_stride = RowBytes(t->dtype, cols);
    return m;
  }

  std::vector<float> Floats(const std::string& name, const std::vector<int64_t>& shape) {
    const TensorView* t = Get(name, shape);
    if (t == nullptr) return {};
    std::vector<float> v(static_cast<size_t>(t->numel()));
    RowToF32(t->dtype, t->data, t->numel(), v.data());
    return v;
  }

 private:
  const Checkpoint& ck_;
  std::string prefix_;
  Status st_;
};

// PyTorch stores conv2d kernels [out, in, kh, kw]; the SSCP gathers patches as (kh, kw, in).
std::vector<float> RepackConv2d(const std::vector<float>& w, int out, int in, int kh, int kw) {
  std::vector<float> r(w.size());
  for (int o = 0; o < out; ++o)
    for (int c = 0; c < in; ++c)
      for (int i = 0; i < kh; ++i)
        for (int j = 0; j < kw; ++j)
          r[((static_cast<size_t>(o) * kh + i) * kw + j) * in + c] = w[((static_cast<size_t>(o) * in + c) * kh + i) * kw + j];
  return r;
}

FfwWeights BindFfw(AudioBinder& b, const std::string& p, int64_t D) {
  FfwWeights f;
  f.pre_norm = b.Floats(p + "pre_layer_norm.weight", {D});
  f.up = b.Matrix(p + "ffw_layer_1.weight", 4 * D, D);
  f.down = b.Matrix(p + "ffw_layer_2.weight", D, 4 * D);
  f.post_norm = b.Floats(p + "post_layer_norm.weight", {D});
  return f;
}

ConformerWeights BindBlock(AudioBinder& b, const std::string& p, const AudioConfig& c) {
  const int64_t D = c.hidden_size;
  ConformerWeights w;
  w.ffw_start = BindFfw(b, p + "ffw_layer_start.", D);
  w.attn.pre_norm = b.Floats(p + "attention.pre_attn_norm.weight", {D});
  w.attn.q = b.Matrix(p + "attention.attn.q_proj.weight", D, D);
  w.attn.k = b.Matrix(p + "attention.attn.k_proj.weight", D, D);
  w.attn.v = b.Matrix(p + "attention.attn.v_proj.weight", D, D);
  w.attn.per_dim_scale = b.Floats(p + "attention.attn.per_dim_scale", {c.head_dim()});
  w.attn.pos_proj = b.Matrix(p + "attention.attn.relative_position_embedding.pos_proj.weight", D, D);
  w.attn.post = b.Matrix(p + "attention.post.weight", D, D);
  w.attn.post_norm = b.Floats(p + "attention.post_norm.weight", {D});
  w.lconv.pre_norm = b.Floats(p + "lconv1d.pre_layer_norm.weight", {D});
  w.lconv.linear_start = b.Matrix(p + "lconv1d.linear_start.weight", 2 * D, D);
  w.lconv.depthwise = b.Floats(p + "lconv1d.depthwise_conv1d.weight", {D, 1, c.conv_kernel_size});
  w.lconv.conv_norm = b.Floats(p + "lconv1d.conv_norm.weight", {D});
  w.lconv.linear_end = b.Matrix(p + "lconv1d.linear_end.weight", D, D);
  w.ffw_end = BindFfw(b, p + "ffw_layer_end.", D);
  w.norm = b.Floats(p + "norm.weight", {D});
  return w;
}

}  // namespace

Result<AudioWeights> BindAudioWeights(const Model& model) {
  if (model.from_gguf) return Error(model.checkpoint.dir + ": audio needs an HF checkpoint folder (GGUF has no audio tower)");
  return BindAudioWeights(model.checkpoint, model.config.text.hidden_size, model.config.text.vocab_size);
}

void RequantizeAudioWeights(AudioWeights* w, DType type, ThreadPool* pool) {
  w->store = WeightStore(type);
  WeightStore& s = w->store;
  s.Requantize(&w->sscp.input_proj, pool);
  for (ConformerWeights& b : w->blocks) {
    for (WeightMatrix* m : {&b.ffw_start.up, &b.ffw_start.down, &b.attn.q, &b.attn.k, &b.attn.v, &b.attn.pos_proj,
                            &b.attn.post, &b.lconv.linear_start, &b.lconv.linear_end, &b.ffw_end.up, &b.ffw_end.down})
      s.Requantize(m, pool);
  }
  s.Requantize(&w->embed.projection, pool);
}

size_t ResidentBytes(const AudioWeights& w) {
  size_t n = 0;
  auto m = [&](const WeightMatrix& x) { n += x.data ? x.row_stride * static_cast<size_t>(x.rows) : 0; };
  auto f = [&](const std::vector<float>& v) { n += v.size() * sizeof(float); };
  for (const SscpConvWeights& c : w.sscp.conv) {
    f(c.kernel);
    f(c.norm);
  }
  m(w.sscp.input_proj);
  for (const ConformerWeights& b : w.blocks) {
    for (const WeightMatrix* x : {&b.ffw_start.up, &b.ffw_start.down, &b.attn.q, &b.attn.k, &b.attn.v, &b.attn.pos_proj,
                                  &b.attn.post, &b.lconv.linear_start, &b.lconv.linear_end, &b.ffw_end.up, &b.ffw_end.down})
      m(*x);
    for (const auto* v : {&b.ffw_start.pre_norm, &b.ffw_start.post_norm, &b.attn.pre_norm, &b.attn.post_norm,
                          &b.attn.per_dim_scale, &b.lconv.pre_norm, &b.lconv.conv_norm, &b.lconv.depthwise,
                          &b.ffw_end.pre_norm, &b.ffw_end.post_norm, &b.norm})
      f(*v);
  }
  m(w.embed.table);
  m(w.embed.projection);
  f(w.embed.hard_norm);
  f(w.embed.soft_norm);
  return n;
}

Result<AudioWeights> BindAudioWeights(const Checkpoint& ck, int text_hidden_size, int text_vocab_size) {
  const std::string source = (std::filesystem::path(ck.dir) / "config.json").string();
  AudioWeights w;
  G3N_ASSIGN_OR_RETURN(w.config, ParseAudioConfig(ck.config_json, source));
  const AudioConfig& c = w.config;
  // A config may describe an audio tower that the files do not hold (text-only exports).
  bool any = false;
  for (auto it = ck.tensors.lower_bound("model.audio_tower."); it != ck.tensors.end(); ++it) {
    any = it->first.rfind("model.audio_tower.", 0) == 0;
    break;
  }
  if (!any) return Error(ck.dir + ": checkpoint has no audio tower (no model.audio_tower.* tensors)");
  w.text_hidden_size = text_hidden_size;
  w.text_vocab_size = text_vocab_size;
  // transformers fills unused audio slots with the embedding of id text_vocab_size - 1.
  const int64_t pad_id = static_cast<int64_t>(w.text_vocab_size) - 1;
  if (pad_id < c.vocab_offset || pad_id >= static_cast<int64_t>(c.vocab_offset) + c.vocab_size) {
    return Error(source + ": the audio padding id (text vocab_size - 1 = " + std::to_string(pad_id) +
                 ") is outside the audio ids [" + std::to_string(c.vocab_offset) + ", " +
                 std::to_string(c.vocab_offset + c.vocab_size) + ")");
  }
  const int64_t D = c.hidden_size;

  AudioBinder b(ck, "model.audio_tower.");
  int in = 1;
  for (int i = 0; i < 2; ++i) {
    const std::string p = "subsample_conv_projection.conv_" + std::to_string(i) + ".";
    const int out = c.sscp_channels[i], kh = c.sscp_kernel[i][0], kw = c.sscp_kernel[i][1];
    const std::vector<float> k = b.Floats(p + "conv.weight", {out, in, kh, kw});
    if (b.status().ok()) w.sscp.conv[i].kernel = RepackConv2d(k, out, in, kh, kw);
    w.sscp.conv[i].norm = b.Floats(p + "norm.weight", {out});
    in = out;
  }
  w.sscp.input_proj = b.Matrix("subsample_conv_projection.input_proj_linear.weight", D, c.sscp_proj_in());
  for (int l = 0; l < c.num_layers && b.status().ok(); ++l)
    w.blocks.push_back(BindBlock(b, "conformer." + std::to_string(l) + ".", c));
  G3N_RETURN_IF_ERROR(b.status());

  AudioBinder e(ck, "model.embed_audio.");
  w.embed.table = e.Matrix("embedding.weight", c.vocab_size, D);
  w.embed.hard_norm = e.Floats("hard_embedding_norm.weight", {D});
  w.embed.soft_norm = e.Floats("soft_embedding_norm.weight", {D});
  w.embed.projection = e.Matrix("embedding_projection.weight", w.text_hidden_size, D);
  G3N_RETURN_IF_ERROR(e.status());
  return w;
}

}  // namespace g3n
