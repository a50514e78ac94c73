#include "audio/real_fft.h"

#include <cmath>
#include <numbers>
#include <utility>

namespace g3n {

RealFft::RealFft(int n) : n_(n), bitrev_(static_cast<size_t>(n / 2)), twiddle_(static_cast<size_t>(n / 2)) {
  const int h = n / 2;
  int bits = 0;
  while ((1 << bits) < h) ++bits;
  for (int i = 0; i < h; ++i) {
    int r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    bitrev_[static_cast<size_t>(i)] = r;
  }
  for (int k = 0; k < h; ++k) twiddle_[static_cast<size_t>(k)] = std::polar(1.0, -2.0 * std::numbers::pi * k / n);
}

void RealFft::Forward(double* in, std::complex<double>* out) const {
  const int h = n_ / 2;
  // Pack even/odd samples as one complex sequence of length h (reinterpreting the buffer is
  // allowed for std::complex<double>) and permute it into bit-reversed order.
  auto* z = reinterpret_cast<std::complex<double>*>(in);
  for (int i = 0; i < h; ++i) {
    const int r = bitrev_[static_cast<size_t>(i)];
    if (r > i) std::swap(z[i], z[r]);
  }
  // Iterative radix-2 butterflies; the length-n table serves every stage with stride n/len.
  for (int len = 2; len <= h; len <<= 1) {
    const int half = len / 2;
    const int stride = n_ / len;
    for (int start = 0; start < h; start += len) {
      for (int j = 0; j < half; ++j) {
        const std::complex<double> w = twiddle_[static_cast<size_t>(j * stride)];
        const std::complex<double> a = z[start + j];
        const std::complex<double> b = z[start + j + half] * w;
        z[start + j] = a + b;
        z[start + j + half] = a - b;
      }
    }
  }
  // Split: E[k] = (Z[k] + conj(Z[h-k])) / 2, O[k] = (Z[k] - conj(Z[h-k])) / 2i, X[k] = E + w^k O.
  out[0] = {z[0].real() + z[0].imag(), 0.0};
  out[h] = {z[0].real() - z[0].imag(), 0.0};
  for (int k = 1; k < h; ++k) {
    const std::complex<double> a = z[k];
    const std::complex<double> b = std::conj(z[h - k]);
    const std::complex<double> even = 0.5 * (a + b);
    const std::complex<double> odd = std::complex<double>(0.0, -0.5) * (a - b);
    out[k] = even + twiddle_[static_cast<size_t>(k)] * odd;
  }
}

}  // namespace g3n
