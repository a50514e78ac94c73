#include "audio/sscp.h"

#include <algorithm>
#include <cmath>

#include "kernels/ops.h"

namespace g3n {
namespace {

WeightMatrix F32Matrix(const std::vector<float>& v, int64_t rows, int64_t cols) {
  WeightMatrix m;
  m.dtype = DType::F32;
  m.data = reinterpret_cast<const uint8_t*>(v.data());
  m.rows = rows;
  m.cols = cols;
  m.row_stride = static_cast<size_t>(cols) * sizeof(float);
  return m;
}

struct ConvShape {
  int64_t t_in, f_in, c_in, t_out, f_out, c_out;
  int kh, kw, sh, sw;
};

// in [t_in, f_in, c_in] -> out [t_out, f_out, c_out]. Padding: time (0, kh-1) — the kernel
// looks forward ("reverse causal") — and frequency (1, 1). Patches are gathered for a slab of
// output frames at a time and multiplied as one matrix product, which keeps the gather
// buffer small for 30 s clips.
void Conv2d(const ConvShape& s, const float* in, const std::vector<float>& kernel, float* out, ThreadPool* pool) {
  const int64_t patch = static_cast<int64_t>(s.kh) * s.kw * s.c_in;
  const WeightMatrix W = F32Matrix(kernel, s.c_out, patch);
  // About 4 MB of gathered patches per slab (conv_1 of the real model: 28 frames x 32 x 1152).
  const int64_t slab = std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(1, s.f_out * patch));
  std::vector<float> cols(static_cast<size_t>(std::min(slab, s.t_out) * s.f_out * patch));
  for (int64_t t0 = 0; t0 < s.t_out; t0 += slab) {
    const int64_t nt = std::min(slab, s.t_out - t0);
    ParallelFor(pool, nt * s.f_out, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t to = t0 + r / s.f_out, fo = r % s.f_out;
        float* dst = cols.data() + r * patch;
        for (int i = 0; i < s.kh; ++i) {
          const int64_t ti = to * s.sh + i;
          for (int j = 0; j < s.kw; ++j, dst += s.c_in) {
            const int64_t fi = fo * s.sw + j - 1;
            if (ti >= s.t_in || fi < 0 || fi >= s.f_in) {
              std::fill(dst, dst + s.c_in, 0.0f);
            } else {
              const float* src = in + (ti * s.f_in + fi) * s.c_in;
              std::copy(src, src + s.c_in, dst);
            }
          }
        }
      }
    }, 64);
    MatMul(W, cols.data(), nt * s.f_out, out + t0 * s.f_out * s.c_out, s.c_out, pool);
  }
}

}  // namespace

int64_t SscpFrames(const AudioConfig& c, int64_t frames) {
  for (int i = 0; i < 2; ++i) frames = (frames + c.sscp_stride[i][0] - 1) / c.sscp_stride[i][0];
  return frames;
}

void CumulativeGroupNorm(float* x, int64_t frames, int64_t group, const float* scale, int channels, float eps) {
  double sum = 0.0, sq = 0.0;
  int64_t count = 0;
  for (int64_t t = 0; t < frames; ++t) {
    float* row = x + t * group;
    for (int64_t i = 0; i < group; ++i) sum += row[i];
    count += group;
    const double mean = sum / static_cast<double>(count);
    // Each frame's squared deviations are taken from the mean up to that frame and never
    // revisited: HF's recursion, not the textbook running variance.
    for (int64_t i = 0; i < group; ++i) sq += (row[i] - mean) * (row[i] - mean);
    const double inv = 1.0 / std::sqrt(sq / static_cast<double>(count) + eps);
    for (int64_t i = 0; i < group; ++i)
      row[i] = static_cast<float>((row[i] - mean) * inv) * scale[i % channels];
  }
}

void RunSscp(const AudioConfig& c, const SscpWeights& w, const float* features, int64_t frames,
             std::vector<float>& out, ThreadPool* pool) {
  std::vector<float> cur(features, features + frames * c.input_feat_size), next;
  ConvShape s{frames, c.input_feat_size, 1, 0, 0, 0, 0, 0, 0, 0};
  for (int b = 0; b < 2; ++b) {
    s.kh = c.sscp_kernel[b][0];
    s.kw = c.sscp_kernel[b][1];
    s.sh = c.sscp_stride[b][0];
    s.sw = c.sscp_stride[b][1];
    s.c_out = c.sscp_channels[b];
    s.t_out = (s.t_in + s.sh - 1) / s.sh;
    s.f_out = c.sscp_freq_out(b);
    next.assign(static_cast<size_t>(s.t_out * s.f_out * s.c_out), 0.0f);
    Conv2d(s, cur.data(), w.conv[b].kernel, next.data(), pool);
    const int64_t group = s.f_out * s.c_out;
    CumulativeGroupNorm(next.data(), s.t_out, group, w.conv[b].norm.data(), static_cast<int>(s.c_out),
                        c.sscp_group_norm_eps);
    for (float& v : next) v = std::max(v, 0.0f);
    cur.swap(next);
    s = ConvShape{s.t_out, s.f_out, s.c_out, 0, 0, 0, 0, 0, 0, 0};
  }
  // cur is [T2, freq, channel]: each row already is the (f * C + c) flattening HF projects.
  out.assign(static_cast<size_t>(s.t_in * c.hidden_size), 0.0f);
  MatMul(w.input_proj, cur.data(), s.t_in, out.data(), c.hidden_size, pool);
}

}  // namespace g3n
