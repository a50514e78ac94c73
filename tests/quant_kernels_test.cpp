// Quantized formats and kernels: our quantizers against ggml's bytes, round-trip error bounds,
// and the quantized MatMul against (a) the same integer math done plainly in double and (b) the
// float product, on shapes that hit every tail (rows, tokens, column-prefix views, row ranges).
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "kernels/quant/act_quant.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/quant_matmul.h"
#include "kernels/reference.h"

namespace g3n {
namespace {

const DType kBlockTypes[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                             DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K};

std::string TypeName(const ::testing::TestParamInfo<DType>& info) { return DTypeName(info.param); }

uint64_t Fnv1a(const void* p, size_t n) {
  uint64_t h = 0xCBF29CE484222325ULL;
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) {
    h ^= b[i];
    h *= 0x100000001B3ULL;
  }
  return h;
}

// ---- ggml's own output (tools/make_quant_fixtures.py) ----

struct Fixture {
  int64_t rows = 0, cols = 0;
  std::vector<float> x;
  struct Entry {
    std::string name;
    std::vector<uint8_t> bytes;
    uint64_t dequant_hash = 0;
  };
  std::vector<Entry> types;
};

template <typename T>
T Read(std::ifstream& f) {
  T v{};
  f.read(reinterpret_cast<char*>(&v), sizeof(T));
  return v;
}

Fixture LoadFixture() {
  Fixture fx;
  std::ifstream f(std::string(G3N_FIXTURES_DIR) + "/quant/ggml_ref.bin", std::ios::binary);
  char magic[8] = {};
  f.read(magic, 8);
  if (!f || std::string(magic, 8) != "G3NQFIX1") return fx;
  fx.rows = Read<uint32_t>(f);
  fx.cols = Read<uint32_t>(f);
  fx.x.resize(static_cast<size_t>(fx.rows * fx.cols));
  f.read(reinterpret_cast<char*>(fx.x.data()), static_cast<std::streamsize>(fx.x.size() * 4));
  const uint32_t n = Read<uint32_t>(f);
  for (uint32_t i = 0; i < n && f; ++i) {
    Fixture::Entry e;
    e.name.resize(Read<uint32_t>(f));
    f.read(e.name.data(), static_cast<std::streamsize>(e.name.size()));
    e.bytes.resize(Read<uint32_t>(f));
    f.read(reinterpret_cast<char*>(e.bytes.data()), static_cast<std::streamsize>(e.bytes.size()));
    e.dequant_hash = Read<uint64_t>(f);
    fx.types.push_back(std::move(e));
  }
  if (!f) fx.types.clear();
  return fx;
}

TEST(QuantFixture, MatchesGgmlReferenceBytes) {
  const Fixture fx = LoadFixture();
  ASSERT_EQ(fx.types.size(), 9u) << "tests/fixtures/quant/ggml_ref.bin missing or malformed";
  for (const auto& e : fx.types) {
    DType t = DType::Unknown;
    for (DType c : kBlockTypes)
      if (e.name == DTypeName(c)) t = c;
    ASSERT_NE(t, DType::Unknown) << e.name;
    const size_t row_bytes = RowBytes(t, fx.cols);
    ASSERT_EQ(e.bytes.size(), row_bytes * fx.rows) << e.name;
    std::vector<uint8_t> got(e.bytes.size());
    for (int64_t r = 0; r < fx.rows; ++r)
      ASSERT_TRUE(QuantizeRow(t, &fx.x[r * fx.cols], fx.cols, &got[r * row_bytes]));
    for (int64_t r = 0; r < fx.rows; ++r) {
      for (size_t i = 0; i < row_bytes; ++i) {
        ASSERT_EQ(got[r * row_bytes + i], e.bytes[r * row_bytes + i])
            << e.name << " row " << r << " byte " << i << " (block " << i / BlockBytes(t) << ")";
      }
    }
    // Dequantizing ggml's bytes must give ggml's floats, bit for bit.
    std::vector<float> deq(fx.x.size());
    ASSERT_TRUE(DequantizeRow(t, e.bytes.data(), fx.rows * fx.cols, deq.data()));
    EXPECT_EQ(Fnv1a(deq.data(), deq.size() * 4), e.dequant_hash) << e.name;
  }
}

// ---- quantize -> dequantize ----

class QuantRoundTrip : public ::testing::TestWithParam<DType> {};

// Relative RMS error of a round trip on gaussian data: about step / sqrt(12) / sigma, with the
// step set by each block's range and bits. Bounds are ~1.3x what the formats achieve.
double RmsBound(DType t) {
  switch (t) {
    case DType::Q8_0: return 0.0055;
    case DType::Q8_K: return 0.0075;
    case DType::Q6_K: return 0.024;
    case DType::Q5_0: case DType::Q5_1: return 0.045;
    case DType::Q5_K: return 0.036;
    case DType::Q4_0: case DType::Q4_1: return 0.095;
    case DType::Q4_K: return 0.075;
    default: return 0.0;
  }
}

TEST_P(QuantRoundTrip, ErrorWithinFormatBound) {
  const DType t = GetParam();
  const int64_t n = 4096;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  std::vector<float> x(n), y(n);
  for (float& v : x) v = nd(rng);
  std::vector<uint8_t> q(RowBytes(t, n));
  ASSERT_TRUE(QuantizeRow(t, x.data(), n, q.data()));
  ASSERT_TRUE(DequantizeRow(t, q.data(), n, y.data()));
  double se = 0.0, sx = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    se += (x[i] - y[i]) * (x[i] - y[i]);
    sx += x[i] * x[i];
  }
  const double rel = std::sqrt(se / sx);
  EXPECT_LT(rel, RmsBound(t)) << DTypeName(t);
  EXPECT_GT(rel, RmsBound(t) / 4) << DTypeName(t) << ": suspiciously exact";
  // Each element is off by at most about half a step of its (sub-)block. The widest step:
  // 32-blocks span max|x| over 2^(bits-1) levels; allow a generous 3 sigma * 0.02 / levels.
  float max_err = 0.0f;
  for (int64_t i = 0; i < n; ++i) max_err = std::max(max_err, std::fabs(x[i] - y[i]));
  const float levels = t == DType::Q8_0 || t == DType::Q8_K ? 127.f : t == DType::Q6_K ? 32.f
                       : (t == DType::Q5_0 || t == DType::Q5_1 || t == DType::Q5_K) ? 16.f : 8.f;
  EXPECT_LT(max_err, 0.02f * 5.0f / levels) << DTypeName(t);
}

TEST_P(QuantRoundTrip, DeterministicAndAlignmentFree) {
  const DType t = GetParam();
  const int64_t n = 512;
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = nd(rng);
  const size_t nb = RowBytes(t, n);
  std::vector<uint8_t> a(nb + 8, 0xAA), b(nb + 8, 0x55);
  ASSERT_TRUE(QuantizeRow(t, x.data(), n, a.data()));
  ASSERT_TRUE(QuantizeRow(t, x.data(), n, b.data() + 4));  // other contents, shifted start
  EXPECT_EQ(0, std::memcmp(a.data(), b.data() + 4, nb));
  EXPECT_EQ(a[nb], 0xAA) << "wrote past the row";
  // RowToF32 decodes block types the same way DequantizeRow does.
  std::vector<float> u(n), v(n);
  ASSERT_TRUE(DequantizeRow(t, a.data(), n, u.data()));
  RowToF32(t, a.data(), n, v.data());
  EXPECT_EQ(0, std::memcmp(u.data(), v.data(), n * 4));
}

TEST(QuantRow, RejectsMisfits) {
  float x[64] = {};
  uint8_t q[512];
  EXPECT_FALSE(QuantizeRow(DType::Q4_0, x, 48, q));
  EXPECT_FALSE(QuantizeRow(DType::Q4_K, x, 64, q));
  EXPECT_FALSE(QuantizeRow(DType::I32, x, 64, q));
  EXPECT_TRUE(QuantizeRow(DType::F16, x, 3, q));
}

INSTANTIATE_TEST_SUITE_P(Types, QuantRoundTrip, ::testing::ValuesIn(kBlockTypes), TypeName);

// ---- quantized MatMul ----

struct QMatrix {
  std::vector<uint8_t> bytes;
  WeightMatrix m;
  std::vector<float> f32;  // the values quantized, [rows][stored_cols]
};

// rows x stored_cols weights of type t, rows `pad` bytes apart beyond their own size.
QMatrix RandomQMatrix(DType t, int64_t rows, int64_t stored_cols, size_t pad, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 0.05f);
  QMatrix q;
  q.f32.resize(static_cast<size_t>(rows * stored_cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float row_scale = 0.5f + static_cast<float>(r % 5) * 0.4f;  // rows of different ranges
    for (int64_t c = 0; c < stored_cols; ++c) q.f32[r * stored_cols + c] = nd(rng) * row_scale + (r % 3 == 0 ? 0.01f : 0.0f);
  }
  const size_t stride = RowBytes(t, stored_cols) + pad;
  q.bytes.assign(stride * rows + 64, 0);
  for (int64_t r = 0; r < rows; ++r) QuantizeRow(t, &q.f32[r * stored_cols], stored_cols, q.bytes.data() + r * stride);
  q.m = {t, q.bytes.data(), rows, stored_cols, stride};
  return q;
}

std::vector<float> RandomActs(int64_t T, int64_t K, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(T * K));
  for (float& v : x) v = nd(rng);
  for (int64_t t = 0; t < T; ++t) x[t * K + (t * 37) % K] *= 20.0f;  // one outlier per token
  return x;
}

// Checks MatMul(W, X) against ref::QuantMatMul (tight: same integer math) and against the float
// product with the exact bound of activation rounding: sum_i |w_i| * d_x(i) / 2.
void CheckMatMul(const WeightMatrix& W, const std::vector<float>& X, int64_t T, const std::string& what) {
  const int64_t ldy = W.rows + 3;
  std::vector<float> got(static_cast<size_t>(T * ldy), -777.0f), want(got.size()), mag(got.size()), f32(got.size());
  ThreadPool pool(2);
  MatMul(W, X.data(), T, got.data(), ldy, &pool);
  ref::QuantMatMul(W, X.data(), T, want.data(), ldy, mag.data());
  ref::MatMul(W, X.data(), T, f32.data(), ldy);

  // Activation scales, as the kernels quantize them, for the float-product bound.
  const int64_t K = W.cols, block = quant::ActBlockFor(W.dtype);
  std::vector<int8_t> q(K);
  std::vector<float> d(K / block), wrow(K);
  std::vector<int16_t> s16(K / 16);
  for (int64_t t = 0; t < T; ++t) {
    if (block == 256) {
      quant::QuantizeActRow256(&X[t * K], K, q.data(), d.data(), s16.data());
    } else {
      quant::QuantizeActRow32(&X[t * K], K, q.data(), d.data(), s16.data());
    }
    for (int64_t r = 0; r < W.rows; ++r) {
      const size_t i = t * ldy + r;
      ASSERT_LE(std::fabs(got[i] - want[i]), 3e-5f * mag[i] + 1e-6f)
          << what << " t=" << t << " r=" << r << " got " << got[i] << " want " << want[i] << " mag " << mag[i];
      RowToF32(W.dtype, W.row(r), K, wrow.data());
      double bound = 0.0;
      for (int64_t c = 0; c < K; ++c) bound += std::fabs(wrow[c] * d[c / block]) * 0.5;
      ASSERT_LE(std::fabs(got[i] - f32[i]), bound * 1.001 + 3e-5 * mag[i] + 1e-6)
          << what << " vs fp32 t=" << t << " r=" << r;
    }
    for (int64_t r = W.rows; r < ldy; ++r) ASSERT_EQ(got[t * ldy + r], -777.0f) << what << ": wrote past rows";
  }
}

struct Shape {
  int64_t rows, T;
};

class QuantMatMulTest : public ::testing::TestWithParam<DType> {};

TEST_P(QuantMatMulTest, MatchesReferencesOnOddShapes) {
  const DType t = GetParam();
  const int64_t be = BlockElems(t);
  std::mt19937 rng(static_cast<unsigned>(t) * 101 + 3);
  // 32-element formats: 544 = 17 blocks, one 16-block AVX-512 group plus a tail.
  const int64_t col_options[] = {be == 32 ? 64 : 256, be == 32 ? 544 : 768};
  const Shape shapes[] = {{1, 1}, {7, 3}, {16, 4}, {17, 5}, {50, 17}, {33, 1}, {40, 8}, {35, 33}};
  for (const int64_t cols : col_options) {
    for (const Shape& s : shapes) {
      QMatrix w = RandomQMatrix(t, s.rows, cols, 4, rng);
      const auto X = RandomActs(s.T, cols, rng);
      CheckMatMul(w.m, X, s.T,
                  std::string(DTypeName(t)) + " " + std::to_string(s.rows) + "x" + std::to_string(cols) + " T=" +
                      std::to_string(s.T) + " (" + QuantKernelFor(t, s.T) + ")");
    }
  }
}

// More columns than the tiled kernel's 2048-column chunk: later chunks add into Y.
TEST_P(QuantMatMulTest, ColumnsBeyondOneChunk) {
  const DType t = GetParam();
  std::mt19937 rng(static_cast<unsigned>(t) * 13 + 2);
  const int64_t cols = BlockElems(t) == 32 ? 2080 : 2304;
  QMatrix w = RandomQMatrix(t, 20, cols, 0, rng);
  for (int64_t T : {2, 9}) {
    const auto X = RandomActs(T, cols, rng);
    CheckMatMul(w.m, X, T, std::string(DTypeName(t)) + " cols " + std::to_string(cols) + " T=" + std::to_string(T));
  }
}

TEST_P(QuantMatMulTest, ColumnPrefixAndRowRangeViews) {
  const DType t = GetParam();
  const int64_t be = BlockElems(t);
  std::mt19937 rng(static_cast<unsigned>(t) * 7 + 1);
  const int64_t stored = be == 32 ? 1120 : 1024, used = be == 32 ? 1056 : 512;
  QMatrix w = RandomQMatrix(t, 45, stored, 0, rng);
  for (int64_t T : {1, 4, 5, 19}) {
    const auto X = RandomActs(T, used, rng);
    CheckMatMul(w.m.FirstCols(used), X, T, std::string(DTypeName(t)) + " FirstCols T=" + std::to_string(T));
    // Rows 13..41 of the prefix view: a slice as ParallelFor hands out, starting mid-tile.
    WeightMatrix slice = w.m.FirstCols(used);
    slice.data = w.m.row(13);
    slice.rows = 29;
    CheckMatMul(slice, X, T, std::string(DTypeName(t)) + " rows 13..41 T=" + std::to_string(T));
  }
}

TEST_P(QuantMatMulTest, NoThreadPoolAndZeroInputs) {
  const DType t = GetParam();
  const int64_t cols = BlockElems(t) * 4;
  std::mt19937 rng(5);
  QMatrix w = RandomQMatrix(t, 21, cols, 0, rng);
  std::vector<float> X(static_cast<size_t>(6 * cols), 0.0f);
  for (int64_t c = 0; c < cols; ++c) X[3 * cols + c] = std::sin(0.1f * c);  // token 3 only
  std::vector<float> y(6 * 21, -1.0f), want(6 * 21);
  MatMul(w.m, X.data(), 6, y.data(), 21, nullptr);
  ref::QuantMatMul(w.m, X.data(), 6, want.data(), 21);
  for (size_t i = 0; i < y.size(); ++i) {
    if (i / 21 != 3) {
      ASSERT_EQ(y[i], 0.0f) << i;
    }
    ASSERT_NEAR(y[i], want[i], 1e-4f * (1.0f + std::fabs(want[i]))) << i;
  }
}

// The sparse FFN's row subset: the same numbers as MatMul over the whole matrix, for the rows
// asked for, in the order asked for (activations quantized once instead of once per row).
TEST_P(QuantMatMulTest, MatVecRowsEqualsMatMulOnThoseRows) {
  const DType t = GetParam();
  const int64_t cols = BlockElems(t) == 32 ? 544 : 768;
  std::mt19937 rng(static_cast<unsigned>(t) * 3 + 11);
  QMatrix w = RandomQMatrix(t, 70, cols, 4, rng);
  const auto X = RandomActs(1, cols, rng);
  std::vector<float> all(70);
  ThreadPool pool(2);
  MatMul(w.m, X.data(), 1, all.data(), 70, &pool);
  const std::vector<int32_t> rows = {69, 3, 4, 40, 0, 17, 17, 68, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 33};
  std::vector<float> got(rows.size(), -1.0f);
  MatVecRows(w.m, rows.data(), static_cast<int64_t>(rows.size()), X.data(), got.data(), &pool);
  for (size_t k = 0; k < rows.size(); ++k) ASSERT_EQ(got[k], all[rows[k]]) << DTypeName(t) << " row " << rows[k];
  MatVecRows(w.m, rows.data(), 5, X.data(), got.data(), nullptr);
  for (size_t k = 0; k < 5; ++k) ASSERT_EQ(got[k], all[rows[k]]) << DTypeName(t) << " no pool, row " << rows[k];
}

// Masked product (the sparse layers' prefill up projection): the masked entries match MatMul's,
// the others are left untouched.
void CheckMasked(const WeightMatrix& W, std::mt19937& rng, float tol) {
  const int64_t T = 13, ldy = W.rows;
  const auto X = RandomActs(T, W.cols, rng);
  std::vector<float> mask(static_cast<size_t>(T * ldy), 0.0f), dense(mask.size()), got(mask.size(), -5.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (size_t i = 0; i < mask.size(); ++i) mask[i] = u(rng) < 0.1f ? 1.0f : 0.0f;
  ThreadPool pool(2);
  MatMul(W, X.data(), T, dense.data(), ldy, &pool);
  MatMulMasked(W, X.data(), T, mask.data(), got.data(), ldy, &pool);
  int used = 0;
  for (size_t i = 0; i < mask.size(); ++i) {
    if (mask[i] == 0.0f) {
      ASSERT_EQ(got[i], -5.0f) << DTypeName(W.dtype) << " wrote an unmasked entry " << i;
    } else {
      ASSERT_NEAR(got[i], dense[i], tol * (1.0f + std::fabs(dense[i]))) << DTypeName(W.dtype) << " entry " << i;
      ++used;
    }
  }
  EXPECT_GT(used, 0);
}

TEST_P(QuantMatMulTest, MaskedEqualsMatMulWhereMasked) {
  const DType t = GetParam();
  std::mt19937 rng(static_cast<unsigned>(t) * 5 + 9);
  QMatrix w = RandomQMatrix(t, 90, BlockElems(t) == 32 ? 544 : 768, 4, rng);
  // Same integer sums; only the float accumulation order differs from the tiled kernel's.
  CheckMasked(w.m, rng, 2e-5f);
}

TEST(MatMulMaskedFloat, EqualsMatMulWhereMasked) {
  std::mt19937 rng(77);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t rows = 40, cols = 200;
  std::vector<float> f32(static_cast<size_t>(rows * cols));
  for (float& v : f32) v = nd(rng);
  std::vector<uint16_t> bf16(f32.size()), f16(f32.size());
  for (size_t i = 0; i < f32.size(); ++i) {
    bf16[i] = F32ToBf16(f32[i]);
    f16[i] = F32ToF16(f32[i]);
  }
  CheckMasked({DType::F32, reinterpret_cast<const uint8_t*>(f32.data()), rows, cols, cols * 4}, rng, 1e-5f);
  CheckMasked({DType::BF16, reinterpret_cast<const uint8_t*>(bf16.data()), rows, cols, cols * 2}, rng, 1e-5f);
  CheckMasked({DType::F16, reinterpret_cast<const uint8_t*>(f16.data()), rows, cols, cols * 2}, rng, 1e-5f);
}

INSTANTIATE_TEST_SUITE_P(Types, QuantMatMulTest, ::testing::ValuesIn(kBlockTypes), TypeName);

// Every SIMD family this machine can run (AVX-512 VNNI, AVX-512, AVX2, SSE4, portable), forced
// in turn: CI machines may lack AVX-512, and each has its own tiled and direct kernels.
TEST(QuantMatMulTargets, EveryRunnableTargetMatchesReference) {
  const int64_t candidates[] = {HWY_AVX3_DL, HWY_AVX3, HWY_AVX2, HWY_SSE4, HWY_EMU128};
  int ran = 0;
  const int64_t supported = hwy::SupportedTargets();  // before the mock below narrows it
  for (const int64_t target : candidates) {
    if ((supported & target) == 0) continue;
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    for (const DType t : kBlockTypes) {
      std::mt19937 rng(static_cast<unsigned>(t) + 17);
      const int64_t cols = BlockElems(t) == 32 ? 544 : 512;
      for (const Shape s : {Shape{1, 1}, Shape{19, 5}, Shape{37, 17}}) {
        QMatrix w = RandomQMatrix(t, s.rows, cols, 0, rng);
        const auto X = RandomActs(s.T, cols, rng);
        CheckMatMul(w.m, X, s.T,
                    std::string(DTypeName(t)) + " on " + QuantKernelTarget() + " T=" + std::to_string(s.T) + " (" +
                        QuantKernelFor(t, s.T) + ")");
      }
    }
    ++ran;
  }
  hwy::SetSupportedTargetsForTest(0);
  EXPECT_GE(ran, 1);
}

TEST(QuantMatMul, RejectsWhatItCannotDo) {
  std::vector<uint8_t> bytes(1024);
  float x[64] = {}, y[4] = {1, 2, 3, 4};
  WeightMatrix w{DType::Q4_0, bytes.data(), 2, 48, 64};  // 48 columns: not whole blocks
  EXPECT_FALSE(QuantMatMul(w, x, 1, y, 2, nullptr));
  w.dtype = DType::BF16;
  EXPECT_FALSE(QuantMatMul(w, x, 1, y, 2, nullptr));
  EXPECT_EQ(y[0], 1.0f);
}

}  // namespace
}  // namespace g3n
