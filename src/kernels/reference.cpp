#include "kernels/reference.h"
#include <vector>

#include "kernels/ops.h"

namespace g3n::ref {

void MatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy) {
  std::vector<float> row(static_cast<size_t>(W.cols));
  for (int64_t r = 0; r < W.rows; ++r) {
    RowToF32(W.dtype, W.row(r), W.cols, row.data());
    for (int64_t t = 0; t < T; ++t) {
      double s = 0.0;
      for (int64_t c = 0; c < W.cols; ++c) s += static_cast<double>(row[c]) * X[t * W.cols + c];
      Y[t * ldy + r] = static_cast<float>(s);
    }
  }
}

}  // namespace g3n::ref
