// Mobile multi-query attention (timm MultiQueryAttention2d inside MobileAttention, spec §2.3).
// Every query head attends over the same single K/V head, so the heads of all pixels form one
// [N*H, D] query matrix: scores and outputs are two matmuls per block of queries.
#include <algorithm>
#include <cmath>

#include "kernels/ops.h"
#include "vision/conv_ops.h"
#include "vision/mobilenet_blocks.h"

namespace g3n {
namespace {

WeightMatrix F32Matrix(const float* data, int64_t rows, int64_t cols) {
  WeightMatrix m;
  m.dtype = DType::F32;
  m.data = reinterpret_cast<const uint8_t*>(data);
  m.rows = rows;
  m.cols = cols;
  m.row_stride = static_cast<size_t>(cols) * sizeof(float);
  return m;
}

// K or V: [M, D] from the normed input, through the optional strided depthwise conv + norm.
FeatureMap KeyOrValue(const FeatureMap& u, const DepthwiseConv& down, const std::vector<float>& norm,
                      const WeightMatrix& proj, float eps, ThreadPool* pool) {
  FeatureMap out;
  if (down.w.empty()) {
    PointwiseConv(u, proj, &out, pool);
    return out;
  }
  FeatureMap d;
  DepthwiseConv2d(u, down, &d, pool);
  RmsNorm2d(&d, norm, eps, false, pool);
  PointwiseConv(d, proj, &out, pool);
  return out;
}

}  // namespace

FeatureMap RunMobileAttention(const VisionBlock& b, const FeatureMap& x, float eps, ThreadPool* pool) {
  const int H = b.spec.heads, D = b.spec.kv_dim;
  FeatureMap u = x;
  RmsNorm2d(&u, b.norm, eps, false, pool);
  FeatureMap q, k, v;
  PointwiseConv(u, b.query, &q, pool);  // [N, H*D], channel = head*D + d
  k = KeyOrValue(u, b.key_down, b.key_norm, b.key, eps, pool);
  v = KeyOrValue(u, b.value_down, b.value_norm, b.value, eps, pool);
  const int64_t N = x.pixels(), M = k.pixels();
  std::vector<float> vt(static_cast<size_t>(D) * M);  // V^T [D, M] as matmul weights
  for (int64_t m = 0; m < M; ++m)
    for (int d = 0; d < D; ++d) vt[static_cast<size_t>(d) * M + m] = v.d[static_cast<size_t>(m) * D + d];
  const WeightMatrix kw = F32Matrix(k.d.data(), M, D), vw = F32Matrix(vt.data(), D, M);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  FeatureMap o;
  o.Resize(x.h, x.w, H * D);
  // Query rows in blocks keep the score matrix small (the real stage 2 has 27648 x 576).
  const int64_t rows = N * H, block = std::max<int64_t>(H, (int64_t{1} << 20) / std::max<int64_t>(M, 1) / H * H);
  std::vector<float> s(static_cast<size_t>(std::min(rows, block) * M));
  for (int64_t r0 = 0; r0 < rows; r0 += block) {
    const int64_t n = std::min(rows, r0 + block) - r0;
    MatMul(kw, q.d.data() + r0 * D, n, s.data(), M, pool);
    ParallelFor(pool, n, [&](int64_t a, int64_t e) {
      for (int64_t r = a; r < e; ++r) {
        float* row = s.data() + r * M;
        float mx = -INFINITY;
        for (int64_t m = 0; m < M; ++m) mx = std::max(mx, row[m] *= scale);
        float sum = 0.0f;
        for (int64_t m = 0; m < M; ++m) sum += (row[m] = std::exp(row[m] - mx));
        const float inv = 1.0f / sum;
        for (int64_t m = 0; m < M; ++m) row[m] *= inv;
      }
    }, 16);
    MatMul(vw, s.data(), n, o.d.data() + r0 * D, D, pool);
  }
  FeatureMap y;
  PointwiseConv(o, b.output, &y, pool);
  ScaleAdd(&y, b.layer_scale, &x, pool);
  return y;
}

}  // namespace g3n
