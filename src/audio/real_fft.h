// Forward FFT of a real sequence whose length is a power of two, in double precision: one
// complex FFT of half the length plus the usual split step.
#pragma once
#include <complex>
#include <vector>

namespace g3n {

class RealFft {
 public:
  explicit RealFft(int n);  // n: power of two, >= 4
  int size() const { return n_; }
  // in: n reals (clobbered as scratch), out: n/2 + 1 bins, X[k] = sum_j in[j] e^{-2 pi i jk/n}.
  void Forward(double* in, std::complex<double>* out) const;

 private:
  int n_;
  std::vector<int> bitrev_;                    // for the half-length complex FFT
  std::vector<std::complex<double>> twiddle_;  // e^{-2 pi i k / n}, k < n/2
};

}  // namespace g3n
