#include "kernels/reference.h"

#include <cmath>
#include <vector>

#include "kernels/ops.h"
#include "kernels/quant/act_quant.h"

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

void QuantMatMul(const WeightMatrix& W, const float* X, int64_t T, float* Y, int64_t ldy, float* mag) {
  const int64_t K = W.cols;
  const int64_t block = quant::ActBlockFor(W.dtype);
  std::vector<int8_t> q(static_cast<size_t>(T * K));
  std::vector<float> d(static_cast<size_t>(T * (K / block)));
  std::vector<int16_t> s16(static_cast<size_t>(T * (K / 16)));
  for (int64_t t = 0; t < T; ++t) {
    if (block == 256) {
      quant::QuantizeActRow256Scalar(X + t * K, K, &q[t * K], &d[t * (K / block)], &s16[t * (K / 16)]);
    } else {
      quant::QuantizeActRow32Scalar(X + t * K, K, &q[t * K], &d[t * (K / block)], &s16[t * (K / 16)]);
    }
  }
  std::vector<float> row(static_cast<size_t>(K));
  for (int64_t r = 0; r < W.rows; ++r) {
    RowToF32(W.dtype, W.row(r), K, row.data());
    for (int64_t t = 0; t < T; ++t) {
      double y = 0.0, m = 0.0;
      for (int64_t b = 0; b < K / block; ++b) {
        double s = 0.0, a = 0.0;
        for (int64_t i = b * block; i < (b + 1) * block; ++i) {
          const double p = static_cast<double>(row[i]) * q[t * K + i];
          s += p;
          a += std::fabs(p);
        }
        y += s * d[t * (K / block) + b];
        m += a * std::fabs(d[t * (K / block) + b]);
      }
      Y[t * ldy + r] = static_cast<float>(y);
      if (mag != nullptr) mag[t * ldy + r] = static_cast<float>(m);
    }
  }
}

}  // namespace g3n::ref
