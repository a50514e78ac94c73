#include "model/weight_store.h"

#include <algorithm>
#include <cctype>

#include "io/mapped_file.h"
#include "kernels/ops.h"
#include "kernels/quant/quant.h"

namespace g3n {

Result<DType> ParseEncoderWeightType(const std::string& name) {
  std::string u = name;
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (u.empty() || u == "AUTO" || u == "STORED") return DType::Unknown;
  if (u == "Q8_0" || u == "Q8") return DType::Q8_0;
  if (u == "Q4_0" || u == "Q4") return DType::Q4_0;
  return Error("encoder weight type '" + name + "': expected Q8_0, Q4_0 or stored (the checkpoint's own type)");
}

bool WeightStore::Fits(const WeightMatrix& m) const {
  return target_ != DType::Unknown && m.data != nullptr && m.dtype != target_ && !IsBlockQuantized(m.dtype) &&
         m.cols % BlockElems(target_) == 0 && m.row_stride == RowBytes(m.dtype, m.cols);
}

void WeightStore::Encode(WeightMatrix* m, ThreadPool* pool) {
  const size_t row_bytes = RowBytes(target_, m->cols);
  auto buf = std::make_unique<uint8_t[]>(row_bytes * static_cast<size_t>(m->rows));
  uint8_t* dst = buf.get();
  const WeightMatrix src = *m;
  const DType target = target_;
  ParallelFor(pool, src.rows, [&](int64_t r0, int64_t r1) {
    std::vector<float> row(static_cast<size_t>(src.cols));
    for (int64_t r = r0; r < r1; ++r) {
      RowToF32(src.dtype, src.row(r), src.cols, row.data());
      QuantizeRow(target, row.data(), src.cols, dst + static_cast<size_t>(r) * row_bytes);
    }
  }, 16);
  m->dtype = target_;
  m->data = dst;
  m->row_stride = row_bytes;
  bytes_ += row_bytes * static_cast<size_t>(m->rows);
  buffers_.push_back(std::move(buf));
}

void WeightStore::Requantize(WeightMatrix* m, ThreadPool* pool) {
  if (!Fits(*m)) return;
  const uint8_t* source = m->data;
  const size_t source_bytes = m->row_stride * static_cast<size_t>(m->rows);
  Encode(m, pool);
  DropPages(source, source_bytes);  // read once: the copy is what stays resident
}

void WeightStore::RequantizeOwned(WeightMatrix* m, std::vector<float>* floats, ThreadPool* pool) {
  if (!Fits(*m)) return;
  Encode(m, pool);
  std::vector<float>().swap(*floats);
}

}  // namespace g3n
