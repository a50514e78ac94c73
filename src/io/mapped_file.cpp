#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace g3n {

Result<std::shared_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Error(path + ": cannot stat: " + std::strerror(errno));
  }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      struct rlimit rl {};
      if (err == ENOMEM && getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        return Error("not enough memory to map " + path + " (" + std::to_string(f->size_ >> 20) +
                     " MiB): the address-space limit (ulimit -v) is " + std::to_string(rl.rlim_cur >> 20) +
                     " MiB; raise it (the file is mapped, not read: only the pages used become resident)");
      return Error(path + ": mmap failed: " + std::strerror(err));
    }
    f->data_ = static_cast<const uint8_t*>(p);
  }
  f->fd_ = fd;
  return f;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void DropPages(const void* p, size_t n) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) & ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void MapRowPrefixesOnly(const uint8_t* base, int64_t rows, size_t stride, size_t used) {
  if (rows <= 0 || used == 0 || used >= stride) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(base);
  const uintptr_t last = first + static_cast<size_t>(rows) * stride;
  // A 2 MiB file folio mapped by one PMD can only be unmapped whole: map the range with
  // page-table entries from now on.
  const uintptr_t huge_begin = (first + page - 1) & ~(page - 1), huge_end = last & ~(page - 1);
  if (huge_end > huge_begin) madvise(reinterpret_cast<void*>(huge_begin), huge_end - huge_begin, MADV_NOHUGEPAGE);
  const auto touch_prefixes = [&] {
    uint8_t sink = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const volatile uint8_t* p = base + static_cast<size_t>(r) * stride;
      for (size_t off = 0; off < used; off += page) sink ^= p[off];
      sink ^= p[used - 1];
    }
    asm volatile("" : : "r"(sink));
  };
  const auto drop_tails = [&] {
    for (int64_t r = 0; r < rows; ++r) {
      const uintptr_t row = first + static_cast<size_t>(r) * stride;
      const uintptr_t begin = (row + used + page - 1) & ~(page - 1);
      const uintptr_t end = (row + stride) & ~(page - 1);
      if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
    }
  };
  // The first pass may zap whole PMD mappings made before NOHUGEPAGE (prefixes included); the
  // second touch maps the prefixes with page-table entries (fault-around maps tails again),
  // and the second drop removes those tails page by page. Later reads of the prefixes do not
  // fault, so nothing maps the tails back.
  touch_prefixes();
  drop_tails();
  touch_prefixes();
  drop_tails();
}

}  // namespace g3n
