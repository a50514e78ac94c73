// The blocked GEMM (kernels/gemm.h) and the row-dot path against the scalar reference, on shapes
// that hit every edge of the blocking: token strips and output panels cut short, K spanning
// several depth blocks, N spanning several packed blocks, padded weight rows, a wide ldy.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/ops.h"
#include "kernels/reference.h"
#include "test_util.h"

namespace g3n {
namespace {

struct Stored {
  std::vector<uint8_t> bytes;
  WeightMatrix m;
};

// [rows, cols] as `dtype`, each row followed by `pad` values that must never be read into Y
// (they are huge, so reading them would show).
Stored RandomWeights(DType dtype, int64_t rows, int64_t cols, int64_t pad, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Stored s;
  const size_t es = DTypeSize(dtype);
  s.m = {dtype, nullptr, rows, cols, static_cast<size_t>(cols + pad) * es};
  s.bytes.resize(s.m.row_stride * rows);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols + pad; ++c) {
      const float v = c < cols ? nd(rng) : 1e4f;
      uint8_t* dst = s.bytes.data() + r * s.m.row_stride + c * es;
      if (dtype == DType::F32) std::memcpy(dst, &v, 4);
      if (dtype == DType::BF16) { const uint16_t h = F32ToBf16(v); std::memcpy(dst, &h, 2); }
      if (dtype == DType::F16) { const uint16_t h = F32ToF16(v); std::memcpy(dst, &h, 2); }
    }
  s.m.data = s.bytes.data();
  return s;
}

using MatMulFn = void (*)(const WeightMatrix&, const float*, int64_t, float*, int64_t, ThreadPool*);

// Runs `fn` with 1 and 2 threads (and no pool) and checks every output against ref::MatMul, and
// that the columns of Y between rows and ldy keep their sentinel.
void CheckAgainstReference(MatMulFn fn, DType dtype, int64_t rows, int64_t cols, int64_t T, int64_t pad,
                           uint32_t seed) {
  std::mt19937 rng(seed);
  Stored w = RandomWeights(dtype, rows, cols, pad, rng);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(T * cols));
  for (float& v : x) v = nd(rng);
  const int64_t ldy = rows + 5;
  constexpr float kSentinel = -12345.0f;
  std::vector<float> want(static_cast<size_t>(T * ldy), kSentinel);
  ref::MatMul(w.m, x.data(), T, want.data(), ldy);
  // fp32 accumulation in a different order: error grows like sqrt(cols) * eps * |terms|.
  const float tol = 1e-5f * std::sqrt(static_cast<float>(cols)) * 4.0f;
  ThreadPool one(1), two(2);
  for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &one, &two}) {
    std::vector<float> got(want.size(), kSentinel);
    fn(w.m, x.data(), T, got.data(), ldy, pool);
    const int threads = pool != nullptr ? pool->size() : 0;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t r = 0; r < ldy; ++r) {
        const size_t i = static_cast<size_t>(t * ldy + r);
        if (r >= rows) {
          ASSERT_EQ(got[i], kSentinel) << "wrote past the output columns at t=" << t << " r=" << r;
        } else {
          ASSERT_NEAR(want[i], got[i], tol) << DTypeName(dtype) << " " << rows << "x" << cols << " T=" << T
                                            << " threads=" << threads << " at t=" << t << " r=" << r;
        }
      }
  }
}

class GemmShapes : public ::testing::TestWithParam<std::tuple<DType, int, int, int>> {};

TEST_P(GemmShapes, GemmMatchesScalarReference) {
  const auto [dtype, rows, cols, T] = GetParam();
  CheckAgainstReference(GemmMatMul, dtype, rows, cols, T, /*pad=*/3, rows * 131 + cols * 7 + T);
}

static_assert(kGemmMinRows == 48, "the T values of GemmShapes straddle the threshold");

TEST_P(GemmShapes, MatMulDispatchMatchesScalarReference) {
  const auto [dtype, rows, cols, T] = GetParam();
  CheckAgainstReference(MatMul, dtype, rows, cols, T, /*pad=*/1, rows * 17 + cols * 3 + T);
}

// Rows: below one panel, odd, one panel plus a part of 1 or 2 vectors (the narrower edge
// kernels, on AVX-512), a little over a few panels. Cols: below a vector, odd, more than
// one depth block (256) with a tail. T: single rows up to several odd strips, and both sides of
// MatMul's switch to the GEMM (kGemmMinRows = 48).
INSTANTIATE_TEST_SUITE_P(Blocking, GemmShapes,
                         ::testing::Combine(::testing::Values(DType::F32, DType::BF16, DType::F16),
                                            ::testing::Values(1, 5, 64, 70, 80, 200), ::testing::Values(1, 13, 64, 300, 531),
                                            ::testing::Values(1, 7, 16, 17, 47, 48, 53)));

// More outputs than one packed weight block (1024) and a K with three depth blocks.
TEST(Gemm, SeveralWeightBlocks) {
  CheckAgainstReference(GemmMatMul, DType::BF16, 1100, 700, 19, /*pad=*/8, 1);
}

// Many tokens, few outputs: the threads split the token strips instead of the outputs.
TEST(Gemm, ManyTokensFewOutputs) {
  CheckAgainstReference(GemmMatMul, DType::F16, 9, 40, 301, /*pad=*/0, 2);
  CheckAgainstReference(GemmMatMul, DType::F32, 40, 9, 203, /*pad=*/2, 3);
}

// The decode path keeps its own test at sizes the GEMM dispatch would now take over.
TEST(Gemm, RowDotPathStillMatches) {
  for (DType t : {DType::F32, DType::BF16, DType::F16}) CheckAgainstReference(RowDotMatMul, t, 37, 77, 33, 3, 4);
}

// A narrower FFN reads only a column prefix of the stored rows.
TEST(Gemm, ColumnPrefixViewUsesOnlyThoseColumns) {
  std::mt19937 rng(5);
  Stored w = RandomWeights(DType::BF16, 50, 300, 0, rng);
  const WeightMatrix narrow = w.m.FirstCols(270);
  std::vector<float> x(static_cast<size_t>(20 * 270), 1.0f), got(20 * 50);
  GemmMatMul(narrow, x.data(), 20, got.data(), 50, nullptr);
  for (int r = 0; r < 50; ++r) {
    double s = 0.0;
    for (int c = 0; c < 270; ++c) s += Bf16ToF32(reinterpret_cast<const uint16_t*>(w.m.row(r))[c]);
    for (int t = 0; t < 20; ++t) ASSERT_NEAR(got[t * 50 + r], s, 1e-3) << "t=" << t << " r=" << r;
  }
}

// Each compiled SIMD target (AVX2/SSE4 tiles differ from AVX-512's) that this CPU can run.
TEST(Gemm, EveryCompiledTarget) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    ASSERT_STREQ(KernelTargetName(), hwy::TargetName(target));  // dispatch really switched
    CheckAgainstReference(GemmMatMul, DType::BF16, 101, 300, 29, 3, 7);
    CheckAgainstReference(GemmMatMul, DType::F16, 50, 70, 17, 1, 8);
    CheckAgainstReference(MatMul, DType::F32, 60, 33, 21, 2, 9);
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(Gemm, EmptyDepthWritesZeros) {
  std::vector<uint8_t> none(4);
  const WeightMatrix w{DType::F32, none.data(), 3, 0, 4};
  std::vector<float> y(20 * 3, 7.0f);
  GemmMatMul(w, nullptr, 20, y.data(), 3, nullptr);
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

}  // namespace
}  // namespace g3n
