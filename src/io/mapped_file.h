// A read-only memory map of a whole file. Weights are used in place: the OS pages them in on
// first touch and may drop them under memory pressure, so nothing is copied into the heap.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "util/status.h"

namespace g3n {

class MappedFile {
 public:
  static Result<std::shared_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // The descriptor stays open so tables that are read, not mapped (the PLE), can use pread.
  int fd() const { return fd_; }
  bool Contains(const uint8_t* p) const { return p >= data_ && p < data_ + size_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
};

Result<std::string> ReadTextFile(const std::string& path);

// Unmaps the whole pages inside [p, p + n) of a read-only file mapping (madvise MADV_DONTNEED):
// they leave this process's RSS and are read again from the page cache if touched.
void DropPages(const void* p, size_t n);

// For mapped weights of which only the first `used` bytes of each row are read (a MatFormer
// sub-model's down projection: the first f of F columns): maps those prefixes in now and drops
// the mappings of the rows' unused tails. The kernel maps pages around every page it faults
// in (fault-around, large folios), so without this the unused columns count as resident; once
// the prefixes are mapped no later fault brings the tails back. Only the process's page tables
// change (the page cache and the file are untouched).
void MapRowPrefixesOnly(const uint8_t* base, int64_t rows, size_t stride, size_t used);

}  // namespace g3n
