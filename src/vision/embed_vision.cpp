#include "vision/embed_vision.h"

#include "kernels/ops.h"

namespace g3n {
namespace {

std::vector<float> Project(const VisionWeights& w, std::vector<float> x, const std::vector<float>& norm, int64_t n,
                           ThreadPool* pool) {
  const int M = w.config.hidden_size, T = w.text_hidden;
  const float eps = w.config.rms_norm_eps;
  for (int64_t i = 0; i < n; ++i) RmsNorm(x.data() + i * M, norm.data(), M, eps, x.data() + i * M);
  std::vector<float> y(static_cast<size_t>(n) * T);
  MatMul(w.embed_projection, x.data(), n, y.data(), T, pool);
  for (int64_t i = 0; i < n; ++i) RmsNorm(y.data() + i * T, nullptr, T, eps, y.data() + i * T);
  return y;
}

}  // namespace

std::vector<float> EmbedVisionSoft(const VisionWeights& w, const float* tokens, int64_t n, ThreadPool* pool) {
  return Project(w, std::vector<float>(tokens, tokens + n * w.config.hidden_size), w.soft_norm, n, pool);
}

Result<std::vector<float>> EmbedVisionHard(const VisionWeights& w, int32_t id) {
  const VisionConfig& c = w.config;
  if (id < c.vocab_offset || id >= c.vocab_offset + c.vocab_size)
    return Error("vision: token id " + std::to_string(id) + " is outside the vision hard-token range [" +
                 std::to_string(c.vocab_offset) + ", " + std::to_string(c.vocab_offset + c.vocab_size) + ")");
  std::vector<float> row(static_cast<size_t>(c.hidden_size));
  RowToF32(w.embed_table.dtype, w.embed_table.row(id - c.vocab_offset), c.hidden_size, row.data());
  return Project(w, std::move(row), w.hard_norm, 1, nullptr);
}

}  // namespace g3n
