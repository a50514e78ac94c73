#include "vision/conv_ops.h"

#include <algorithm>
#include <cstring>

#include "kernels/ops.h"

namespace g3n {

std::vector<float> ToChw(const FeatureMap& m) {
  std::vector<float> out(m.d.size());
  const int64_t n = m.pixels();
  for (int64_t p = 0; p < n; ++p)
    for (int ch = 0; ch < m.c; ++ch) out[static_cast<size_t>(ch) * n + p] = m.d[static_cast<size_t>(p) * m.c + ch];
  return out;
}

FeatureMap FromChw(const float* chw, int c, int h, int w) {
  FeatureMap m;
  m.Resize(h, w, c);
  const int64_t n = m.pixels();
  for (int64_t p = 0; p < n; ++p)
    for (int ch = 0; ch < c; ++ch) m.d[static_cast<size_t>(p) * c + ch] = chw[static_cast<size_t>(ch) * n + p];
  return m;
}

SamePad ComputeSamePad(int in, int k, int stride) {
  SamePad s;
  s.out = (in + stride - 1) / stride;
  const int total = std::max((s.out - 1) * stride + k - in, 0);
  s.before = total / 2;
  return s;
}

void DenseConv2d(const FeatureMap& x, const DenseConv& conv, FeatureMap* y, ThreadPool* pool) {
  const SamePad ph = ComputeSamePad(x.h, conv.k, conv.stride), pw = ComputeSamePad(x.w, conv.k, conv.stride);
  y->Resize(ph.out, pw.out, conv.out);
  const int k = conv.k, cin = x.c;
  const int64_t patch = static_cast<int64_t>(k) * k * cin;
  const WeightMatrix m = conv.matrix();
  // im2col a block of output pixels at a time: bounded scratch, each block one matmul.
  const int64_t n = y->pixels();
  const int64_t block = std::max<int64_t>(64, (1 << 20) / patch);
  std::vector<float> cols(static_cast<size_t>(std::min(block, n) * patch));
  for (int64_t p0 = 0; p0 < n; p0 += block) {
    const int64_t p1 = std::min(n, p0 + block);
    ParallelFor(pool, p1 - p0, [&](int64_t a, int64_t b) {
      for (int64_t p = p0 + a; p < p0 + b; ++p) {
        const int oy = static_cast<int>(p / pw.out), ox = static_cast<int>(p % pw.out);
        float* dst = cols.data() + (p - p0) * patch;
        for (int ky = 0; ky < k; ++ky) {
          const int iy = oy * conv.stride - ph.before + ky;
          for (int kx = 0; kx < k; ++kx, dst += cin) {
            const int ix = ox * conv.stride - pw.before + kx;
            if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) std::memset(dst, 0, sizeof(float) * cin);
            else std::memcpy(dst, x.px(static_cast<int64_t>(iy) * x.w + ix), sizeof(float) * cin);
          }
        }
      }
    }, 16);
    MatMul(m, cols.data(), p1 - p0, y->px(p0), conv.out, pool);
  }
  if (!conv.bias.empty())
    for (int64_t p = 0; p < n; ++p)
      for (int o = 0; o < conv.out; ++o) y->px(p)[o] += conv.bias[o];
}

void DepthwiseConv2d(const FeatureMap& x, const DepthwiseConv& conv, FeatureMap* y, ThreadPool* pool) {
  const SamePad ph = ComputeSamePad(x.h, conv.k, conv.stride), pw = ComputeSamePad(x.w, conv.k, conv.stride);
  y->Resize(ph.out, pw.out, x.c);
  const int C = x.c, k = conv.k;
  ParallelFor(pool, y->h, [&](int64_t r0, int64_t r1) {
    for (int64_t oy = r0; oy < r1; ++oy) {
      for (int ox = 0; ox < pw.out; ++ox) {
        float* out = y->px(oy * pw.out + ox);
        std::fill(out, out + C, 0.0f);
        for (int ky = 0; ky < k; ++ky) {
          const int iy = static_cast<int>(oy) * conv.stride - ph.before + ky;
          if (iy < 0 || iy >= x.h) continue;
          for (int kx = 0; kx < k; ++kx) {
            const int ix = ox * conv.stride - pw.before + kx;
            if (ix < 0 || ix >= x.w) continue;
            const float* in = x.px(static_cast<int64_t>(iy) * x.w + ix);
            const float* w = conv.w.data() + static_cast<size_t>(ky * k + kx) * C;
            for (int ch = 0; ch < C; ++ch) out[ch] += in[ch] * w[ch];
          }
        }
      }
    }
  });
}

void PointwiseConv(const FeatureMap& x, const WeightMatrix& w, FeatureMap* y, ThreadPool* pool) {
  y->Resize(x.h, x.w, static_cast<int>(w.rows));
  MatMul(w, x.d.data(), x.pixels(), y->d.data(), w.rows, pool);
}

void RmsNorm2d(FeatureMap* x, const std::vector<float>& w, float eps, bool gelu, ThreadPool* pool) {
  ParallelFor(pool, x->pixels(), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      RmsNorm(x->px(p), w.data(), x->c, eps, x->px(p));
      if (gelu) GeluTanh(x->px(p), x->c);
    }
  }, 64);
}

void ScaleAdd(FeatureMap* y, const std::vector<float>& gamma, const FeatureMap* residual, ThreadPool* pool) {
  ParallelFor(pool, y->pixels(), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* o = y->px(p);
      const float* r = residual != nullptr ? residual->px(p) : nullptr;
      for (int ch = 0; ch < y->c; ++ch) o[ch] = o[ch] * gamma[ch] + (r != nullptr ? r[ch] : 0.0f);
    }
  }, 64);
}

}  // namespace g3n
