// Every SIMD kernel against its scalar reference, on sizes that hit the vector tails.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cmath>
#include <random>

#include "kernels/ops.h"
#include "kernels/quant/act_quant.h"
#include "kernels/reference.h"
#include "test_util.h"

namespace g3n {
namespace {

struct Packed {
  std::vector<uint8_t> bytes;
  WeightMatrix m;
};

// A random [rows, cols] matrix stored as `dtype` with `pad` unused columns at the end of each row.
Packed RandomMatrix(DType dtype, int64_t rows, int64_t cols, int64_t pad, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Packed p;
  const size_t es = DTypeSize(dtype);
  p.m = {dtype, nullptr, rows, cols, static_cast<size_t>(cols + pad) * es};
  p.bytes.resize(p.m.row_stride * rows);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols + pad; ++c) {
      const float v = nd(rng);
      uint8_t* dst = p.bytes.data() + r * p.m.row_stride + c * es;
      if (dtype == DType::F32) std::memcpy(dst, &v, 4);
      if (dtype == DType::BF16) { const uint16_t h = F32ToBf16(v); std::memcpy(dst, &h, 2); }
      if (dtype == DType::F16) { const uint16_t h = F32ToF16(v); std::memcpy(dst, &h, 2); }
    }
  p.m.data = p.bytes.data();
  return p;
}

class MatMulTest : public ::testing::TestWithParam<std::tuple<DType, int, int, int>> {};

TEST_P(MatMulTest, MatchesScalarReference) {
  const auto [dtype, rows, cols, T] = GetParam();
  std::mt19937 rng(rows * 131 + cols * 7 + T);
  Packed w = RandomMatrix(dtype, rows, cols, /*pad=*/3, rng);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(T) * cols);
  for (float& v : x) v = nd(rng);
  const int64_t ldy = rows + 2;
  std::vector<float> want(static_cast<size_t>(T) * ldy, 0.0f), got(want.size(), 0.0f);
  ref::MatMul(w.m, x.data(), T, want.data(), ldy);
  ThreadPool pool(2);
  MatMul(w.m, x.data(), T, got.data(), ldy, &pool);
  // fp32 accumulation in a different order: error grows like sqrt(cols) * eps * |terms|.
  const float tol = 1e-5f * std::sqrt(static_cast<float>(cols)) * 4.0f;
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(want[i], got[i], tol) << "index " << i;
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatMulTest,
                         ::testing::Combine(::testing::Values(DType::F32, DType::BF16, DType::F16),
                                            ::testing::Values(1, 7, 64), ::testing::Values(1, 15, 16, 33, 256),
                                            ::testing::Values(1, 3, 4, 9)));

TEST(MatMul, ColumnPrefixViewUsesOnlyThoseColumns) {
  std::mt19937 rng(5);
  Packed w = RandomMatrix(DType::BF16, 8, 64, 0, rng);
  const WeightMatrix narrow = w.m.FirstCols(24);
  std::vector<float> x(24, 1.0f), want(8), got(8);
  ref::MatMul(narrow, x.data(), 1, want.data(), 8);
  MatMul(narrow, x.data(), 1, got.data(), 8, nullptr);
  for (int r = 0; r < 8; ++r) {
    float s = 0.0f;
    for (int c = 0; c < 24; ++c) s += Bf16ToF32(reinterpret_cast<const uint16_t*>(w.m.row(r))[c]);
    EXPECT_NEAR(want[r], s, 1e-4f);
    EXPECT_NEAR(got[r], s, 1e-4f);
  }
}

TEST(Kernels, DotAndAxpyMatchScalar) {
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int n : {1, 5, 16, 17, 100, 256}) {
    std::vector<float> a(n), b(n), y(n), y2(n);
    for (int i = 0; i < n; ++i) { a[i] = nd(rng); b[i] = nd(rng); y[i] = y2[i] = nd(rng); }
    double want = 0.0;
    for (int i = 0; i < n; ++i) want += static_cast<double>(a[i]) * b[i];
    EXPECT_NEAR(Dot(a.data(), b.data(), n), want, 1e-4 * std::sqrt(n));
    Axpy(0.5f, a.data(), y.data(), n);
    for (int i = 0; i < n; ++i) EXPECT_NEAR(y[i], y2[i] + 0.5f * a[i], 1e-6f);
  }
}

TEST(Kernels, HalfPrecisionConversionsRoundTrip) {
  for (float v : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 3.14159f}) {
    EXPECT_FLOAT_EQ(F16ToF32(F32ToF16(v)), F16ToF32(F32ToF16(F16ToF32(F32ToF16(v)))));
    EXPECT_NEAR(F16ToF32(F32ToF16(v)), v, std::fabs(v) * 1e-3f + 1e-7f);
    EXPECT_NEAR(Bf16ToF32(F32ToBf16(v)), v, std::fabs(v) * 4e-3f);
  }
  EXPECT_EQ(F32ToBf16(1.00390625f), 0x3f80);  // tie rounds to even
  EXPECT_TRUE(std::isinf(F16ToF32(F32ToF16(1e6f))));
}

TEST(Kernels, RmsNormGeluTopKSoftcap) {
  std::vector<float> x{1.0f, -2.0f, 3.0f, -4.0f}, w{1.0f, 0.5f, 2.0f, 1.0f}, out(4);
  RmsNorm(x.data(), w.data(), 4, 1e-6f, out.data());
  const double inv = 1.0 / std::sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[i], x[i] * inv * w[i], 1e-6);

  std::vector<float> g{-3.0f, -0.5f, 0.0f, 0.5f, 3.0f};
  GeluTanh(g.data(), 5);
  const float want[] = {-0.00363739f, -0.15428599f, 0.0f, 0.34571401f, 2.99636261f};  // torch gelu(tanh)
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(g[i], want[i], 1e-6f);

  // Population std: values 0..9, mean 4.5, std sqrt(8.25); cutoff at mean + 1.0 * std.
  std::vector<float> v(10);
  for (int i = 0; i < 10; ++i) v[i] = static_cast<float>(i);
  GaussianTopK(v.data(), 10, 1.0f);
  const float cut = 4.5f + std::sqrt(8.25f);
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(v[i], std::max(0.0f, i - cut), 1e-5f);

  std::vector<float> s{0.0f, 30.0f, -300.0f};
  SoftCap(s.data(), 3, 30.0f);
  EXPECT_NEAR(s[1], 30.0f * std::tanh(1.0f), 1e-5f);
  EXPECT_NEAR(s[2], -30.0f, 1e-4f);
}

TEST(Kernels, NormalQuantile) {
  EXPECT_NEAR(NormalQuantile(0.95), 1.6448536269514722, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.01), -2.3263478740408408, 1e-12);
}

TEST(Kernels, RopeRotatesPairsByAngle) {
  std::vector<float> x{1.0f, 2.0f, 3.0f, 4.0f};
  const float c[] = {std::cos(0.3f), std::cos(0.7f)}, s[] = {std::sin(0.3f), std::sin(0.7f)};
  RopeRotate(x.data(), c, s, 4);
  EXPECT_NEAR(x[0], 1 * c[0] - 3 * s[0], 1e-6f);
  EXPECT_NEAR(x[2], 3 * c[0] + 1 * s[0], 1e-6f);
  EXPECT_NEAR(x[1], 2 * c[1] - 4 * s[1], 1e-6f);
  EXPECT_NEAR(x[3], 4 * c[1] + 2 * s[1], 1e-6f);
}

TEST(ThreadPool, CoversRangeExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 5, 1000}) {
    std::vector<int> hits(n, 0);
    pool.ParallelFor(n, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) hits[i]++; });
    for (int h : hits) EXPECT_EQ(h, 1);
  }
}

// Thousands of back-to-back jobs (decode's pattern), mixed sizes and grains, some with a slow
// chunk: every index exactly once, every chunk but a job's last at least `grain` long, and
// workers that sleep between bursts wake for the next one.
TEST(ThreadPool, ManyJobsDynamicChunksAndSleeps) {
  ThreadPool pool(3);
  std::mt19937 rng(1);
  std::vector<std::atomic<int>> hits(5000);
  for (int job = 0; job < 3000; ++job) {
    const int64_t n = std::uniform_int_distribution<int64_t>(1, 5000)(rng);
    const int64_t grain = std::uniform_int_distribution<int64_t>(1, 64)(rng);
    const bool slow = job % 97 == 0;
    for (int64_t i = 0; i < n; ++i) hits[i].store(0);
    std::atomic<bool> short_chunk{false};
    pool.ParallelFor(n, [&](int64_t b, int64_t e) {
      if (e - b < grain && e != n) short_chunk = true;
      for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
      if (slow && b == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }, grain);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "job " << job << " index " << i;
    ASSERT_FALSE(short_chunk.load()) << "job " << job;
    if (job % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // let workers block
  }
}

}  // namespace
}  // namespace g3n

namespace g3n {
namespace {

// The SIMD GELU / soft-cap against their std::tanh references over a wide range (both tails,
// zero, tiny values where a 1 - x form would cancel), lengths that leave vector tails.
TEST(Kernels, SimdGeluAndSoftCapFollowTheScalarReferences) {
  for (int n : {1, 7, 8, 33, 1000}) {
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = (i % 2 ? -1.0f : 1.0f) * std::pow(10.0f, -6.0f + 8.0f * i / std::max(1, n - 1));
    std::vector<float> g = x, gr = x, s = x, sr = x;
    GeluTanh(g.data(), n);
    ScalarGeluTanh(gr.data(), n);
    SoftCap(s.data(), n, 30.0f);
    ScalarSoftCap(sr.data(), n, 30.0f);
    for (int i = 0; i < n; ++i) {
      EXPECT_NEAR(g[i], gr[i], 4e-7f * std::max(1.0f, std::fabs(gr[i]))) << "gelu x=" << x[i];
      EXPECT_NEAR(s[i], sr[i], 4e-7f * std::max(1e-3f, std::fabs(sr[i]))) << "softcap x=" << x[i];
    }
  }
}

TEST(Kernels, SimdActivationQuantizationIsBitIdentical) {
  const int64_t n = 32 * 37;
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = std::sin(0.37f * i) * std::pow(2.0f, static_cast<float>(i % 11) - 5);
  for (int i = 64; i < 96; ++i) x[i] = 0.0f;  // an all-zero block
  x[200] = 0.5f;                            // exact halves: ties to even
  std::vector<int8_t> q(n), qr(n);
  std::vector<float> d(n / 32), dr(n / 32);
  std::vector<int16_t> s(n / 16), sr(n / 16);
  quant::QuantizeActRow32(x.data(), n, q.data(), d.data(), s.data());
  quant::QuantizeActRow32Scalar(x.data(), n, qr.data(), dr.data(), sr.data());
  EXPECT_EQ(q, qr);
  EXPECT_EQ(d, dr);
  EXPECT_EQ(s, sr);
}

TEST(Kernels, SimdQ8KActivationQuantizationIsBitIdentical) {
  const int64_t n = 256 * 9;
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = std::sin(0.37f * i) * std::pow(2.0f, static_cast<float>(i % 11) - 5);
  for (int i = 256; i < 512; ++i) x[i] = 0.0f;  // an all-zero block
  x[600] = 40.0f;                             // the extreme is positive ...
  x[700] = -40.0f;                            // ... and its first occurrence decides the sign
  x[1100] = -50.0f;
  x[1300] = 50.0f;
  std::vector<int8_t> q(n), qr(n);
  std::vector<float> d(n / 256), dr(n / 256);
  std::vector<int16_t> s(n / 16), sr(n / 16);
  quant::QuantizeActRow256(x.data(), n, q.data(), d.data(), s.data());
  quant::QuantizeActRow256Scalar(x.data(), n, qr.data(), dr.data(), sr.data());
  EXPECT_EQ(q, qr);
  EXPECT_EQ(d, dr);
  EXPECT_EQ(s, sr);
}

}  // namespace
}  // namespace g3n
