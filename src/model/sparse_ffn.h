// Decode-time FFN of the layers with gaussian top-k sparsity. After the gate's top-k only ~5%
// of the units are non-zero, so only their rows of up_proj and their columns of down_proj
// matter. Up rows are contiguous already; down columns are made contiguous by a unit-major
// copy of down_proj built once at start-up (float weights; the mapped original is then never
// read, so resident memory does not grow).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/config.h"
#include "model/weights.h"

namespace g3n {

class SparseFfn {
 public:
  SparseFfn(const TextConfig& c, const TextWeights& w, ThreadPool* pool);

  bool Applies(int layer) const { return c_.activation_sparsity[layer] > 0.0f; }
  // One token: `gate` holds the gate after top-k (F values, modified); x is the FFN input [H];
  // writes down_proj(gelu(gate) * up_proj(x)) to out [H].
  void Run(int layer, const float* x, float* gate, float* out) const;
  size_t repacked_bytes() const;

 private:
  const TextConfig& c_;
  const TextWeights& w_;
  ThreadPool* pool_;
  std::vector<WeightMatrix> down_units_;  // per layer [F, H]; empty where not built
  std::vector<std::unique_ptr<uint8_t[]>> storage_;
  size_t repacked_bytes_ = 0;
};

}  // namespace g3n
