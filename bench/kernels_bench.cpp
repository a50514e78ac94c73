// MatMul throughput per weight type at Gemma 3n E2B shapes, next to this machine's memory read
// bandwidth. Decode (T = 1) is memory-bound: it reports the weight bytes streamed per second and
// their fraction of the measured bandwidth. Prefill (T = 64, 512) is compute-bound: GFLOP/s.
//
//   kernels_bench [--threads N] [--types Q4_0,Q8_0,...] [--tokens 1,64,512] [--shapes all|small]
//                 [--min-time SECONDS] [--json FILE] [--hot 1] [--path auto|gemm|rowdot]
// --hot 1 keeps one copy of each matrix (cache-resident when small): the kernels' compute ceiling.
// --path forces one of the float-weight paths (kernels/gemm.h) instead of MatMul's choice by T;
// --shapes audio gives the conformer's matrices (T = 750 frames for a 30 s clip), --shapes vision
// the largest of MobileNet-V5's.
//
// Matrices are built from 64 properly quantized random rows repeated, and decode cycles through
// enough copies of them (>= 1 GiB in all) that they stream from DRAM as a model's weights do.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/ops.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/quant_matmul.h"
#include "kernels/thread_pool.h"

namespace g3n {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// CPU seconds of the whole process: with other jobs time-slicing the cores, work / (CPU time /
// threads) estimates what dedicated cores would give.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// Streaming sum over a 1 GiB buffer split across the pool: the bandwidth a matvec can hope for.
double MeasureBandwidth(ThreadPool* pool, double min_time) {
  const size_t n = size_t{1} << 27;  // 2^27 uint64 = 1 GiB
  std::vector<uint64_t> buf(n);
  ParallelFor(pool, static_cast<int64_t>(n), [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i) buf[i] = static_cast<uint64_t>(i);
  });
  double best = 0.0;
  volatile uint64_t sink = 0;
  const auto start = Clock::now();
  do {
    std::vector<uint64_t> partial(64, 0);
    const auto t0 = Clock::now();
    ParallelFor(pool, 64, [&](int64_t a, int64_t b) {
      for (int64_t c = a; c < b; ++c) {
        const uint64_t* p = buf.data() + static_cast<size_t>(c) * (n / 64);
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i < n / 64; i += 4) {
          s0 += p[i];
          s1 += p[i + 1];
          s2 += p[i + 2];
          s3 += p[i + 3];
        }
        partial[c] = s0 + s1 + s2 + s3;
      }
    });
    const double s = Seconds(t0, Clock::now());
    for (uint64_t v : partial) sink = sink + v;
    best = std::max(best, static_cast<double>(n * 8) / s / 1e9);
  } while (Seconds(start, Clock::now()) < min_time);
  return best;
}

struct Weights {
  std::vector<std::vector<uint8_t>> copies;
  WeightMatrix m;
};

Weights MakeWeights(DType t, int64_t rows, int64_t cols, size_t min_total_bytes) {
  constexpr int64_t kPattern = 64;
  const size_t row_bytes = RowBytes(t, cols);
  std::vector<uint8_t> pattern(row_bytes * kPattern);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 0.03f);
  std::vector<float> x(static_cast<size_t>(cols));
  for (int64_t r = 0; r < kPattern; ++r) {
    for (float& v : x) v = nd(rng);
    QuantizeRow(t, x.data(), cols, pattern.data() + r * row_bytes);
  }
  Weights w;
  const size_t bytes = row_bytes * static_cast<size_t>(rows);
  const size_t ncopies = std::max<size_t>(1, (min_total_bytes + bytes - 1) / bytes);
  for (size_t c = 0; c < ncopies; ++c) {
    std::vector<uint8_t> buf(bytes);
    for (int64_t r = 0; r < rows; r += kPattern) {
      const int64_t n = std::min<int64_t>(kPattern, rows - r);
      std::memcpy(buf.data() + r * row_bytes, pattern.data(), row_bytes * n);
    }
    w.copies.push_back(std::move(buf));
  }
  w.m = {t, w.copies[0].data(), rows, cols, row_bytes};
  return w;
}

struct Result {
  std::string type;
  int64_t rows, cols, T;
  double ms, gbps, frac, gflops, cpu_ms;  // cpu_ms: CPU time / threads of the best call
};

}  // namespace
}  // namespace g3n

int main(int argc, char** argv) {
  using namespace g3n;
  int threads = 2;
  std::string types = "F32,BF16,F16,Q8_0,Q4_0,Q4_1,Q5_0,Q5_1,Q4_K,Q5_K,Q6_K";
  std::string tokens = "1,64,512";
  std::string shapes = "all";
  std::string json;
  double min_time = 1.0;
  bool hot = false;
  std::string path = "auto";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--types") types = v;
    else if (k == "--tokens") tokens = v;
    else if (k == "--shapes") shapes = v;
    else if (k == "--min-time") min_time = std::atof(v.c_str());
    else if (k == "--json") json = v;
    else if (k == "--hot") hot = v == "1";
    else if (k == "--path") path = v;
    else { std::fprintf(stderr, "unknown flag %s\n", k.c_str()); return 2; }
  }
  using MatMulFn = void (*)(const WeightMatrix&, const float*, int64_t, float*, int64_t, ThreadPool*);
  MatMulFn matmul = MatMul;
  if (path == "gemm") matmul = GemmMatMul;
  else if (path == "rowdot") matmul = RowDotMatMul;
  else if (path != "auto") { std::fprintf(stderr, "unknown path %s\n", path.c_str()); return 2; }
  ThreadPool pool(threads);
  std::printf("kernel targets: float %s, quantized %s; %d threads; float path %s\n", KernelTargetName(),
              QuantKernelTarget(), threads, path.c_str());
  const double bw = MeasureBandwidth(&pool, min_time);
  std::printf("memory read bandwidth: %.2f GB/s (streaming sum, 1 GiB)\n\n", bw);

  struct ShapeDef { const char* name; int64_t rows, cols; };
  std::vector<ShapeDef> shape_list = {{"attn/proj 2048x2048", 2048, 2048}, {"ffn up 8192x2048", 8192, 2048},
                                      {"ffn down 2048x8192", 2048, 8192}, {"lm head 262400x2048", 262400, 2048}};
  if (shapes == "small") shape_list.resize(3);
  if (shapes == "tiny") shape_list = {{"512x2048 (L2)", 512, 2048}, {"128x2048 (L2)", 128, 2048}};
  if (shapes == "audio")
    shape_list = {{"audio 1536x1536", 1536, 1536}, {"audio up 6144x1536", 6144, 1536},
                  {"audio down 1536x6144", 1536, 6144}};
  if (shapes == "vision")  // MobileNet-V5 pointwise convs and mobile attention (T = 576 .. 36864 pixels)
    shape_list = {{"vision 2560x1280", 2560, 1280}, {"vision 1280x2560", 1280, 2560}, {"vision 640x1280", 640, 1280},
                  {"vision attn 512x1152", 512, 1152}, {"vision 64x576", 64, 576}, {"vision 576x64", 576, 64},
                  {"vision 128x512", 128, 512}};

  std::vector<Result> results;
  std::printf("%-6s %-22s %5s %10s %9s %7s %9s %9s\n", "type", "shape", "T", "ms", "GB/s", "of bw", "GFLOP/s",
              "cpu-GF/s");
  for (const std::string& tn : Split(types)) {
    DType t = DType::Unknown;
    for (DType c : {DType::F32, DType::BF16, DType::F16, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                    DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K})
      if (tn == DTypeName(c)) t = c;
    if (t == DType::Unknown) { std::fprintf(stderr, "unknown type %s\n", tn.c_str()); return 2; }
    for (const ShapeDef& s : shape_list) {
      const size_t bytes = RowBytes(t, s.cols) * static_cast<size_t>(s.rows);
      // Decode needs DRAM-resident weights; prefill re-reads them per token tile from cache anyway.
      Weights w = MakeWeights(t, s.rows, s.cols, hot ? 0 : size_t{1} << 30);
      for (const std::string& ts : Split(tokens)) {
        const int64_t T = std::atoll(ts.c_str());
        if (s.rows > 100000 && T > 64) continue;  // the LM head runs only for sampled positions
        std::vector<float> X(static_cast<size_t>(T * s.cols)), Y(static_cast<size_t>(T * s.rows));
        std::mt19937 rng(2);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        for (float& v : X) v = nd(rng);
        // One untimed call warms the pool and the activation buffers.
        matmul(w.m, X.data(), T, Y.data(), s.rows, &pool);
        double best = 1e30, best_cpu = 1e30;
        int iters = 0;
        const auto start = Clock::now();
        do {
          WeightMatrix m = w.m;
          m.data = w.copies[static_cast<size_t>(iters) % w.copies.size()].data();
          const double c0 = CpuSeconds();
          const auto t0 = Clock::now();
          matmul(m, X.data(), T, Y.data(), s.rows, &pool);
          best = std::min(best, Seconds(t0, Clock::now()));
          best_cpu = std::min(best_cpu, (CpuSeconds() - c0) / threads);
          ++iters;
        } while (Seconds(start, Clock::now()) < min_time || iters < 3);
        Result r{tn, s.rows, s.cols, T, best * 1e3, bytes / best / 1e9, 0.0,
                 2.0 * s.rows * s.cols * T / best / 1e9, best_cpu * 1e3};
        r.frac = r.gbps / bw;
        results.push_back(r);
        std::printf("%-6s %-22s %5lld %10.3f %9.2f %6.0f%% %9.1f %9.1f\n", tn.c_str(), s.name,
                    static_cast<long long>(T), r.ms, r.gbps, 100.0 * r.frac, r.gflops,
                    2.0 * s.rows * s.cols * T / best_cpu / 1e9);
        std::fflush(stdout);
      }
    }
  }
  if (!json.empty()) {
    FILE* f = std::fopen(json.c_str(), "w");
    if (f == nullptr) return 1;
    std::fprintf(f, "{\"target\": \"%s\", \"threads\": %d, \"bandwidth_gbps\": %.3f, \"results\": [\n",
                 KernelTargetName(), threads, bw);
    for (size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      std::fprintf(f,
                   "  {\"type\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"T\": %lld, \"ms\": %.4f, \"gbps\": %.3f, "
                   "\"fraction_of_bandwidth\": %.4f, \"gflops\": %.2f, \"cpu_ms_per_thread\": %.4f}%s\n",
                   r.type.c_str(), static_cast<long long>(r.rows), static_cast<long long>(r.cols),
                   static_cast<long long>(r.T), r.ms, r.gbps, r.frac, r.gflops, r.cpu_ms, i + 1 < results.size() ? "," : "");
    }
    std::fprintf(f, "]}\n");
    std::fclose(f);
  }
  return 0;
}
