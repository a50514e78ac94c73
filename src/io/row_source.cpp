#include "io/row_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "kernels/ops.h"

namespace g3n {

RowSource::RowSource(std::shared_ptr<MappedFile> file, const WeightMatrix& table, size_t cache_bytes)
    : file_(std::move(file)), table_(table), row_bytes_(RowBytes(table.dtype, table.cols)),
      runs_{{0, table.cols}}, out_cols_(table.cols) {
  if (file_ && file_->Contains(table.data)) {
    file_offset_ = static_cast<size_t>(table.data - file_->data());
  } else {
    file_.reset();
  }
  capacity_rows_ = row_bytes_ > 0 ? cache_bytes / row_bytes_ : 0;
  scratch_.resize(row_bytes_);  // the cache itself grows with use, up to capacity_rows_
}

void RowSource::SetColumnRuns(std::vector<std::pair<int64_t, int64_t>> runs) {
  std::lock_guard<std::mutex> lock(mu_);
  runs_ = std::move(runs);
  out_cols_ = 0;
  row_bytes_ = 0;
  for (const auto& [b, e] : runs_) {
    out_cols_ += e - b;
    row_bytes_ += RowBytes(table_.dtype, e - b);
  }
  const size_t cache_bytes = capacity_rows_ * RowBytes(table_.dtype, table_.cols);
  capacity_rows_ = row_bytes_ > 0 ? cache_bytes / row_bytes_ : 0;
  lru_.clear();
  where_.clear();
  cache_.clear();
  scratch_.resize(row_bytes_);
}

void RowSource::Prefetch(const int32_t* ids, int n) const {
  if (!file_) return;
  for (int i = 0; i < n; ++i)
    for (const auto& [b, e] : runs_)
      ::posix_fadvise(file_->fd(),
                      static_cast<off_t>(file_offset_ + static_cast<size_t>(ids[i]) * table_.row_stride +
                                         RowBytes(table_.dtype, b)),
                      static_cast<off_t>(RowBytes(table_.dtype, e - b)), POSIX_FADV_WILLNEED);
}

const uint8_t* RowSource::Fetch(int32_t id) {
  ++stats_.requests;
  auto it = where_.find(id);
  if (it != where_.end()) {
    ++stats_.hits;
    lru_.splice(lru_.begin(), lru_, it->second);
    return cache_.data() + it->second->second * row_bytes_;
  }
  uint8_t* dst = scratch_.data();
  if (capacity_rows_ > 0) {
    size_t slot;
    if (lru_.size() < capacity_rows_) {
      slot = lru_.size();
      cache_.resize((slot + 1) * row_bytes_);
    } else {
      slot = lru_.back().second;
      where_.erase(lru_.back().first);
      lru_.pop_back();
    }
    lru_.emplace_front(id, slot);
    where_[id] = lru_.begin();
    dst = cache_.data() + slot * row_bytes_;
  }
  ++stats_.reads;
  stats_.bytes_read += row_bytes_;
  uint8_t* out = dst;
  for (const auto& [b, e] : runs_) {
    const size_t skip = RowBytes(table_.dtype, b), len = RowBytes(table_.dtype, e - b);
    const size_t off = file_offset_ + static_cast<size_t>(id) * table_.row_stride + skip;
    size_t done = 0;
    while (file_ && done < len) {
      const ssize_t r = ::pread(file_->fd(), out + done, len - done, static_cast<off_t>(off + done));
      if (r <= 0) break;  // cannot happen for a validated, mapped file; fall back to the mapping
      done += static_cast<size_t>(r);
    }
    if (done < len) std::memcpy(out, table_.row(id) + skip, len);
    out += len;
  }
  return dst;
}

void RowSource::Gather(const int32_t* ids, int n, float* out) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t cols = out_cols_;
  std::unordered_map<int32_t, int> first;  // duplicate ids in one request are read once
  for (int i = 0; i < n; ++i) {
    auto [it, inserted] = first.emplace(ids[i], i);
    if (!inserted) {
      std::memcpy(out + i * cols, out + it->second * cols, cols * sizeof(float));
      continue;
    }
    RowToF32(table_.dtype, Fetch(ids[i]), cols, out + i * cols);
  }
}

RowSourceStats RowSource::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace g3n
