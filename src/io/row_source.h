// Rows of a large table that stays on storage (the PLE table: 4 GB in bf16 for E2B, read one
// row per token). Rows are fetched with positioned reads into the caller's buffer, so the
// table never becomes resident in this process; a small LRU cache keeps hot rows, duplicate ids
// in one request are read once, and Prefetch() lets the kernel start reading as soon as the ids
// are known.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "io/mapped_file.h"
#include "kernels/matrix.h"

namespace g3n {

struct RowSourceStats {
  uint64_t requests = 0;  // rows asked for
  uint64_t reads = 0;     // rows read from storage
  uint64_t hits = 0;      // rows served by the cache
  uint64_t bytes_read = 0;
};

class RowSource {
 public:
  // `table` must lie inside `file`'s mapping. With a null file the rows are copied from the
  // mapping instead (tests, in-memory tables).
  RowSource(std::shared_ptr<MappedFile> file, const WeightMatrix& table, size_t cache_bytes);

  // Read only these element ranges [begin, end) of each row, concatenated (a MatFormer
  // sub-model skips the PLE slices of dropped layers). Ranges must align to the type's blocks.
  // Call before the first Gather.
  void SetColumnRuns(std::vector<std::pair<int64_t, int64_t>> runs);

  void Prefetch(const int32_t* ids, int n) const;
  // out[i, :] = row ids[i] (its column runs) widened to fp32: out_cols() values each.
  void Gather(const int32_t* ids, int n, float* out);
  int64_t out_cols() const { return out_cols_; }

  RowSourceStats stats() const;
  size_t cache_bytes() const { return cache_.size(); }
  const WeightMatrix& table() const { return table_; }

 private:
  const uint8_t* Fetch(int32_t id);  // raw row bytes, from the cache or storage

  std::shared_ptr<MappedFile> file_;
  WeightMatrix table_;
  size_t row_bytes_;  // bytes kept per row (the column runs)
  std::vector<std::pair<int64_t, int64_t>> runs_;
  int64_t out_cols_;
  size_t file_offset_ = 0;
  size_t capacity_rows_;
  std::vector<uint8_t> cache_;                                    // capacity_rows_ slots
  std::list<std::pair<int32_t, size_t>> lru_;                     // (id, slot), most recent first
  std::unordered_map<int32_t, std::list<std::pair<int32_t, size_t>>::iterator> where_;
  std::vector<uint8_t> scratch_;
  mutable std::mutex mu_;
  RowSourceStats stats_;
};

}  // namespace g3n
