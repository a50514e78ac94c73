// Process facts the CLI and benchmarks report.
#pragma once
#include <sys/resource.h>

#include <chrono>
#include <cstddef>

namespace g3n {

// Peak resident set size of this process, in bytes.
inline size_t PeakRssBytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<size_t>(ru.ru_maxrss) * 1024;
}

inline double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace g3n
