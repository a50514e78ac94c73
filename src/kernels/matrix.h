// What a kernel sees of a weight: a typed row-major matrix, possibly a column prefix of a
// wider one (row_stride > cols), which is how MatFormer runs a narrower FFN without copying.
#pragma once
#include <cstddef>
#include <cstdint>

#include "io/dtype.h"

namespace g3n {

struct WeightMatrix {
  DType dtype = DType::Unknown;
  const uint8_t* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_stride = 0;  // bytes between consecutive rows

  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_stride; }
  // The first n rows (e.g. a narrower FFN's gate/up).
  WeightMatrix FirstRows(int64_t n) const { WeightMatrix m = *this; m.rows = n; return m; }
  // The first n columns (e.g. a narrower FFN's down projection).
  WeightMatrix FirstCols(int64_t n) const { WeightMatrix m = *this; m.cols = n; return m; }
};

}  // namespace g3n
