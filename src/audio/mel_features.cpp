#include "audio/mel_features.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "kernels/thread_pool.h"

namespace g3n {
namespace {

double HzToMel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double MelToHz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

int64_t RoundUp(int64_t n, int64_t multiple) {
  return multiple > 0 && n % multiple != 0 ? (n / multiple + 1) * multiple : n;
}

}  // namespace

LogMelExtractor::LogMelExtractor(const MelConfig& config) : cfg_(config), fft_(config.fft_length()) {
  const int n = cfg_.frame_length;
  // The reference builds the window in float32 arithmetic; doing the same keeps the last bits.
  const auto two_pi = static_cast<float>(2.0 * std::numbers::pi);
  window_.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    window_[static_cast<size_t>(i)] =
        0.5f * (1.0f - std::cos(two_pi * static_cast<float>(i) / static_cast<float>(n)));
  }

  // Triangles between consecutive HTK-mel points; bin frequencies are float32 as in the reference.
  const int n_freqs = fft_.size() / 2 + 1;
  const int n_mels = cfg_.feature_size;
  const double m_min = HzToMel(cfg_.min_frequency), m_max = HzToMel(cfg_.max_frequency);
  const double step = (m_max - m_min) / (n_mels + 1);
  std::vector<double> f_pts(static_cast<size_t>(n_mels + 2));
  for (int j = 0; j < n_mels + 2; ++j) {
    f_pts[static_cast<size_t>(j)] = MelToHz(j == n_mels + 1 ? m_max : m_min + j * step);
  }
  const auto bin_hz = static_cast<float>(static_cast<double>(cfg_.sampling_rate) / fft_.size());
  filters_.resize(static_cast<size_t>(n_mels));
  for (int j = 0; j < n_mels; ++j) {
    const double lo = f_pts[static_cast<size_t>(j)], mid = f_pts[static_cast<size_t>(j + 1)];
    const double hi = f_pts[static_cast<size_t>(j + 2)];
    Filter& f = filters_[static_cast<size_t>(j)];
    f.first_bin = -1;
    for (int k = 0; k < n_freqs; ++k) {
      const double hz = static_cast<double>(static_cast<float>(k) * bin_hz);
      const double w = std::max(0.0, std::min((hz - lo) / (mid - lo), (hi - hz) / (hi - mid)));
      if (w > 0.0) {
        if (f.first_bin < 0) f.first_bin = k;
        f.weights.resize(static_cast<size_t>(k - f.first_bin + 1), 0.0);
        f.weights.back() = w;
      }
    }
    if (f.first_bin < 0) f.first_bin = 0;
  }
}

int64_t LogMelExtractor::FrameCount(int64_t padded) const {
  const int64_t span = cfg_.frame_length + 1;  // one extra sample feeds the pre-emphasis
  return padded >= span ? (padded - span) / cfg_.hop_length + 1 : 0;
}

void LogMelExtractor::ComputeFrame(const float* x, float* frame, double* fft_in, std::complex<double>* spectrum,
                                   double* mag, float* out) const {
  const int n = cfg_.frame_length;
  // float32 throughout, like the reference's numpy arithmetic on float32 frames.
  const auto pe = static_cast<float>(cfg_.preemphasis);
  if (cfg_.preemphasis > 0.0 && cfg_.preemphasis_htk_flavor) {
    frame[0] = x[0] * static_cast<float>(1.0 - cfg_.preemphasis);
    for (int i = 1; i < n; ++i) frame[i] = x[i] - pe * x[i - 1];
  } else if (cfg_.preemphasis > 0.0) {
    for (int i = 0; i < n; ++i) frame[i] = x[i + 1] - pe * x[i];
  } else {
    std::copy(x, x + n, frame);
  }
  for (int i = 0; i < n; ++i) fft_in[i] = static_cast<double>(frame[i] * window_[static_cast<size_t>(i)]);
  std::fill(fft_in + n, fft_in + fft_.size(), 0.0);
  fft_.Forward(fft_in, spectrum);
  for (int k = 0; k <= fft_.size() / 2; ++k) mag[k] = std::abs(spectrum[k]);

  const bool norm_mean = !cfg_.per_bin_mean.empty(), norm_std = !cfg_.per_bin_stddev.empty();
  for (size_t j = 0; j < filters_.size(); ++j) {
    const Filter& f = filters_[j];
    double e = 0.0;
    for (size_t k = 0; k < f.weights.size(); ++k) e += mag[static_cast<size_t>(f.first_bin) + k] * f.weights[k];
    double v = std::log(std::max(e, cfg_.mel_floor));
    if (norm_mean) v -= cfg_.per_bin_mean[j];
    if (norm_std) v /= cfg_.per_bin_stddev[j];
    out[j] = static_cast<float>(v);
  }
}

MelFeatures LogMelExtractor::Compute(std::span<const float> clip, int64_t padded, ThreadPool* pool) const {
  const int64_t len = std::min<int64_t>(static_cast<int64_t>(clip.size()), padded);
  std::vector<float> wave(static_cast<size_t>(padded), static_cast<float>(cfg_.padding_value));
  std::copy(clip.begin(), clip.begin() + len, wave.begin());
  if (cfg_.input_scale_factor != 1.0) {
    for (float& v : wave) v *= static_cast<float>(cfg_.input_scale_factor);
  }

  MelFeatures out;
  out.frames = FrameCount(padded);
  out.bins = cfg_.feature_size;
  out.values.resize(static_cast<size_t>(out.frames) * static_cast<size_t>(out.bins));
  out.mask.resize(static_cast<size_t>(out.frames));
  for (int64_t t = 0; t < out.frames; ++t) out.mask[static_cast<size_t>(t)] = t * cfg_.hop_length < len ? 1 : 0;

  const int n_fft = fft_.size();
  ParallelFor(
      pool, out.frames,
      [&](int64_t t0, int64_t t1) {
        std::vector<float> frame(static_cast<size_t>(cfg_.frame_length));
        std::vector<double> fft_in(static_cast<size_t>(n_fft));
        std::vector<std::complex<double>> spectrum(static_cast<size_t>(n_fft / 2 + 1));
        std::vector<double> mag(static_cast<size_t>(n_fft / 2 + 1));
        for (int64_t t = t0; t < t1; ++t) {
          ComputeFrame(wave.data() + t * cfg_.hop_length, frame.data(), fft_in.data(), spectrum.data(), mag.data(),
                       out.values.data() + t * out.bins);
        }
      },
      /*grain=*/32);
  return out;
}

std::vector<MelFeatures> LogMelExtractor::ExtractBatch(const std::vector<std::span<const float>>& clips,
                                                       ThreadPool* pool) const {
  // Truncation rounds max_length up to the padding multiple, as the reference's _truncate does.
  const int64_t keep = RoundUp(cfg_.max_length, cfg_.pad_to_multiple_of);
  int64_t longest = 0;
  for (const auto& c : clips) longest = std::max(longest, std::min<int64_t>(static_cast<int64_t>(c.size()), keep));
  const int64_t padded = RoundUp(longest, cfg_.pad_to_multiple_of);
  std::vector<MelFeatures> out;
  out.reserve(clips.size());
  for (const auto& c : clips) out.push_back(Compute(c.first(std::min<size_t>(c.size(), static_cast<size_t>(keep))),
                                                    padded, pool));
  return out;
}

MelFeatures LogMelExtractor::Extract(std::span<const float> waveform, ThreadPool* pool) const {
  return std::move(ExtractBatch({waveform}, pool).front());
}

}  // namespace g3n
