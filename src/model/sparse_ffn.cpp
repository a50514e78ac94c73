#include "model/sparse_ffn.h"

#include <cstring>

#include "kernels/mixed_ops.h"
#include "kernels/ops.h"

namespace g3n {

SparseFfn::SparseFfn(const TextConfig& c, const TextWeights& w, ThreadPool* pool) : c_(c), w_(w), pool_(pool) {
  down_units_.resize(c.num_layers);
  for (int l = 0; l < c.num_layers; ++l) {
    const WeightMatrix& d = w.layers[l].down;  // [H, F]
    if (!Applies(l) || (d.dtype != DType::F32 && d.dtype != DType::F16 && d.dtype != DType::BF16)) continue;
    const size_t es = DTypeSize(d.dtype);
    const int64_t H = d.rows, F = d.cols;
    std::unique_ptr<uint8_t[]> buf(new uint8_t[static_cast<size_t>(F * H) * es]);
    uint8_t* dst = buf.get();
    // Blocked transpose: 64 output rows at a time keep the source rows' cache lines hot.
    ParallelFor(pool, (F + 63) / 64, [&](int64_t b0, int64_t b1) {
      for (int64_t fb = b0 * 64; fb < std::min(F, b1 * 64); fb += 64)
        for (int64_t h = 0; h < H; ++h) {
          const uint8_t* src = d.row(h);
          for (int64_t f = fb; f < std::min(F, fb + 64); ++f)
            std::memcpy(dst + static_cast<size_t>(f * H + h) * es, src + static_cast<size_t>(f) * es, es);
        }
    });
    down_units_[l] = {d.dtype, dst, F, H, static_cast<size_t>(H) * es};
    repacked_bytes_ += static_cast<size_t>(F * H) * es;
    storage_.push_back(std::move(buf));
  }
}

size_t SparseFfn::repacked_bytes() const { return repacked_bytes_; }

void SparseFfn::Run(int layer, const float* x, float* gate, float* out) const {
  const LayerWeights& lw = w_.layers[layer];
  const int64_t F = c_.intermediate_size[layer], H = c_.hidden_size;
  thread_local std::vector<int32_t> active_ids;
  std::vector<int32_t>& active = active_ids;  // a reference, so worker threads see this thread's list
  active.clear();
  for (int64_t i = 0; i < F; ++i)
    if (gate[i] != 0.0f) active.push_back(static_cast<int32_t>(i));
  const int64_t n = static_cast<int64_t>(active.size());
  // a_i = gelu(gate_i) * (up_i . x), for active units only.
  thread_local std::vector<float> up_vals;
  std::vector<float>& up = up_vals;
  up.resize(static_cast<size_t>(n));
  MatVecRows(lw.up, active.data(), n, x, up.data(), pool_);
  for (int64_t k = 0; k < n; ++k) {
    const int32_t i = active[k];
    GeluTanh(&gate[i], 1);
    gate[i] *= up[k];
  }
  const WeightMatrix& du = down_units_[layer];
  if (du.data == nullptr) {  // quantized weights: dense down over the mostly-zero vector
    MatMul(lw.down, gate, 1, out, H, pool_);
    return;
  }
  // out = sum_i a_i * down[:, i], split by output columns so threads write disjoint ranges.
  ParallelFor(pool_, H, [&](int64_t c0, int64_t c1) {
    std::fill(out + c0, out + c1, 0.0f);
    const size_t es = DTypeSize(du.dtype);
    for (int32_t i : active)
      AxpyMixed(gate[i], du.dtype, du.row(i) + static_cast<size_t>(c0) * es, out + c0, c1 - c0);
  }, 256);
}

}  // namespace g3n
