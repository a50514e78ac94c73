// Re-encoded copies of weights that an engine keeps in memory instead of reading them from the
// mapped file: the image and audio towers in 8 (or 4) bits. The mapped BF16 source is read once,
// quantized into a buffer this store owns, and its pages are dropped from the process (they stay
// in the page cache, not in RSS), so what stays resident is the quantized copy alone.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "kernels/matrix.h"
#include "kernels/thread_pool.h"
#include "util/status.h"

namespace g3n {

// "" / "auto" / "stored" = keep the checkpoint's type (DType::Unknown); "Q8_0", "Q4_0" (any case).
Result<DType> ParseEncoderWeightType(const std::string& name);

class WeightStore {
 public:
  explicit WeightStore(DType target = DType::Unknown) : target_(target) {}
  DType target() const { return target_; }

  // Repoints `m` at a copy in the target type. Leaves `m` as it is when the store keeps stored
  // types or when its row length does not fit the target's blocks. `m` must be a whole mapped
  // tensor or heap floats: mapped sources (inside `mapped`) have their pages dropped after.
  void Requantize(WeightMatrix* m, ThreadPool* pool);
  // The same for an fp32 matrix held in `floats` (a repacked conv kernel): when it is re-encoded
  // the floats are freed.
  void RequantizeOwned(WeightMatrix* m, std::vector<float>* floats, ThreadPool* pool);

  size_t bytes() const { return bytes_; }  // what the re-encoded copies hold

 private:
  bool Fits(const WeightMatrix& m) const;
  void Encode(WeightMatrix* m, ThreadPool* pool);

  DType target_;
  std::vector<std::unique_ptr<uint8_t[]>> buffers_;
  size_t bytes_ = 0;
};

}  // namespace g3n
