#include "audio/resampler.h"

#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace g3n {

Result<std::unique_ptr<Resampler>> Resampler::Create(double in_rate, double out_rate) {
  if (!(in_rate > 0) || !(out_rate > 0)) {
    return Error("resampler: invalid rates " + std::to_string(in_rate) + " -> " + std::to_string(out_rate));
  }
  soxr_error_t err = nullptr;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
  soxr_t s = soxr_create(in_rate, out_rate, 1, &err, &io, &q, nullptr);
  if (err != nullptr || s == nullptr) {
    if (s != nullptr) soxr_delete(s);
    return Error(std::string("resampler: soxr_create failed: ") + (err ? err : "unknown error"));
  }
  return std::unique_ptr<Resampler>(new Resampler(s, out_rate / in_rate));
}

Resampler::~Resampler() { soxr_delete(static_cast<soxr_t>(soxr_)); }

Status Resampler::Run(const float* in, size_t n, std::vector<float>* out) {
  auto* s = static_cast<soxr_t>(soxr_);
  // soxr may hold input back, so loop until it has taken all of it (or, when flushing with
  // in == nullptr, until it has nothing more to give).
  const size_t chunk = static_cast<size_t>(std::ceil(static_cast<double>(std::max<size_t>(n, 4096)) * ratio_)) + 64;
  size_t consumed = 0;
  for (;;) {
    const size_t base = out->size();
    out->resize(base + chunk);
    size_t idone = 0, odone = 0;
    soxr_error_t err = soxr_process(s, in ? in + consumed : nullptr, in ? n - consumed : 0, &idone,
                                    out->data() + base, chunk, &odone);
    out->resize(base + odone);
    out_total_ += odone;
    if (err != nullptr) return Error(std::string("resampler: ") + err);
    consumed += idone;
    if (in != nullptr ? consumed >= n && odone < chunk : odone == 0) return Status();
  }
}

Status Resampler::Process(const float* in, size_t n, std::vector<float>* out) {
  if (n == 0) return Status();
  in_total_ += n;
  return Run(in, n, out);
}

Status Resampler::Finish(std::vector<float>* out) {
  const size_t start = out->size();
  G3N_RETURN_IF_ERROR(Run(nullptr, 0, out));
  const auto want = static_cast<size_t>(std::llround(static_cast<double>(in_total_) * ratio_));
  if (out_total_ > want) {
    const size_t extra = std::min(out_total_ - want, out->size() - start);
    out->resize(out->size() - extra);
    out_total_ -= extra;
  }
  return Status();
}

}  // namespace g3n
