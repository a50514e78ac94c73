// A typed view of tensor bytes that live elsewhere (usually a mapped checkpoint file).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/dtype.h"

namespace g3n {

struct TensorView {
  std::string name;
  std::string file;  // where the bytes live, for error messages
  DType dtype = DType::Unknown;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  int64_t cols() const { return shape.size() < 2 ? (shape.empty() ? 1 : shape[0]) : numel() / shape[0]; }
  size_t row_bytes() const { return static_cast<size_t>(cols()) * DTypeSize(dtype); }
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes(); }
};

std::string ShapeString(const std::vector<int64_t>& shape);

}  // namespace g3n
