#include "tokenizer/tokenizer_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "io/mapped_file.h"

namespace g3n {
namespace {

constexpr char kMagic[8] = {'G', '3', 'N', 'T', 'O', 'K', '\0', '\0'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kByteOrder = 0x01020304;  // a cache from a big-endian host reads as stale
constexpr size_t kEdge = 64 << 10;

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  return h ^ (h >> 33);
}

void Put(std::string& out, const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }
template <class T>
void Put(std::string& out, T v) {
  Put(out, &v, sizeof v);
}
void PutStamp(std::string& out, const SourceStamp& s) {
  Put(out, s.size);
  Put(out, s.mtime_ns);
  Put(out, s.edge_hash);
  Put<uint64_t>(out, s.exists ? 1 : 0);
}

// Bounds-checked reader over the mapped cache.
class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  bool Get(void* dst, size_t n) {
    if (n > n_ - at_) return false;
    std::memcpy(dst, p_ + at_, n);
    at_ += n;
    return true;
  }
  template <class T>
  bool Get(T& v) {
    return Get(&v, sizeof v);
  }
  bool GetStamp(SourceStamp& s) {
    uint64_t exists = 0;
    bool ok = Get(s.size) && Get(s.mtime_ns) && Get(s.edge_hash) && Get(exists);
    s.exists = exists != 0;
    return ok;
  }
  size_t at() const { return at_; }
  size_t left() const { return n_ - at_; }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t at_ = 0;
};

}  // namespace

uint64_t Hash64(const void* data, size_t n, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ull);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = Rotl(h ^ (w * 0x87C37B91114253D5ull), 31) * 0x4CF5AD432745937Full;
  }
  uint64_t tail = 0;
  for (size_t k = 0; i + k < n; ++k) tail |= static_cast<uint64_t>(p[i + k]) << (8 * k);
  return Mix(h ^ tail);
}

Result<SourceStamp> StampFile(const std::string& path) {
  SourceStamp s;
  if (path.empty()) return s;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Error(path + ": cannot stat: " + std::strerror(errno));
  }
  s.exists = true;
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  // Hashing the ends catches a rewrite that kept size and mtime (a copy with preserved times).
  std::string buf(static_cast<size_t>(std::min<uint64_t>(s.size, 2 * kEdge)), '\0');
  const size_t head = std::min(buf.size(), kEdge);
  bool ok = ::pread(fd, buf.data(), head, 0) == static_cast<ssize_t>(head);
  if (ok && buf.size() > head)
    ok = ::pread(fd, buf.data() + head, buf.size() - head, static_cast<off_t>(s.size - (buf.size() - head))) ==
         static_cast<ssize_t>(buf.size() - head);
  ::close(fd);
  if (!ok) return Error(path + ": read failed");
  s.edge_hash = Hash64(buf.data(), buf.size());
  return s;
}

std::string CachePathBeside(const std::string& json_path) {
  std::filesystem::path p(json_path);
  return (p.parent_path() / (p.stem().string() + ".g3ntok")).string();
}

std::string CachePathInUserCache(const std::string& json_path) {
  std::string base;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && x[0] != '\0') {
    base = x;
  } else if (const char* h = std::getenv("HOME"); h != nullptr && h[0] != '\0') {
    base = std::string(h) + "/.cache";
  } else {
    return "";
  }
  std::error_code ec;
  const std::string abs = std::filesystem::absolute(json_path, ec).string();
  char name[40];
  std::snprintf(name, sizeof name, "tokenizer-%016llx.g3ntok",
                static_cast<unsigned long long>(Hash64(abs.data(), abs.size())));
  return base + "/gemma3n/" + name;
}

Status WriteTokenizerCache(const std::string& cache_path, const TokenizerSpec& spec, const SourceStamp& json_stamp,
                           const SourceStamp& config_stamp) {
  std::string payload;
  payload.reserve(spec.piece_blob.size() + spec.piece_offsets.size() * 4 + spec.merges.size() * 12 + (1 << 16));
  Put(payload, spec.unk_id);
  Put(payload, spec.bos_id);
  Put<uint8_t>(payload, spec.byte_fallback);
  Put<uint8_t>(payload, spec.fuse_unk);
  Put<uint8_t>(payload, spec.add_bos);
  Put<uint8_t>(payload, 0);
  Put<uint64_t>(payload, spec.piece_offsets.size());
  Put(payload, spec.piece_offsets.data(), spec.piece_offsets.size() * sizeof(uint32_t));
  Put<uint64_t>(payload, spec.piece_blob.size());
  Put(payload, spec.piece_blob.data(), spec.piece_blob.size());
  Put<uint64_t>(payload, spec.merges.size());
  Put(payload, spec.merges.data(), spec.merges.size() * sizeof(Merge));
  Put<uint64_t>(payload, spec.added.size());
  for (const AddedToken& a : spec.added) {
    Put(payload, a.id);
    Put<uint8_t>(payload, a.special);
    Put<uint64_t>(payload, a.content.size());
    Put(payload, a.content.data(), a.content.size());
  }

  std::string file;
  Put(file, kMagic, sizeof kMagic);
  Put(file, kVersion);
  Put(file, kByteOrder);
  PutStamp(file, json_stamp);
  PutStamp(file, config_stamp);
  Put<uint64_t>(file, payload.size());
  Put(file, Hash64(payload.data(), payload.size()));
  file += payload;

  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cache_path).parent_path(), ec);
  const std::string tmp = cache_path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Error(tmp + ": cannot create: " + std::strerror(errno));
  const bool written = std::fwrite(file.data(), 1, file.size(), f) == file.size();
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    return Error(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), cache_path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    std::remove(tmp.c_str());
    return Error(cache_path + ": cannot rename into place: " + err);
  }
  return Status();
}

Result<TokenizerSpec> ReadTokenizerCache(const std::string& cache_path, const SourceStamp& json_stamp,
                                         const SourceStamp& config_stamp) {
  if (::access(cache_path.c_str(), R_OK) != 0) return Error(cache_path + ": no cache");
  G3N_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> f, MappedFile::Open(cache_path));
  Reader r(f->data(), f->size());
  char magic[8];
  uint32_t version = 0, order = 0;
  SourceStamp js, cs;
  uint64_t payload_size = 0, payload_hash = 0;
  if (!r.Get(magic, 8) || std::memcmp(magic, kMagic, 8) != 0 || !r.Get(version) || version != kVersion ||
      !r.Get(order) || order != kByteOrder)
    return Error(cache_path + ": not a tokenizer cache of this version");
  if (!r.GetStamp(js) || !r.GetStamp(cs) || !(js == json_stamp) || !(cs == config_stamp))
    return Error(cache_path + ": stale (tokenizer.json or tokenizer_config.json changed)");
  if (!r.Get(payload_size) || !r.Get(payload_hash) || payload_size != r.left() ||
      Hash64(f->data() + r.at(), payload_size) != payload_hash)
    return Error(cache_path + ": damaged (checksum mismatch)");

  TokenizerSpec spec;
  uint8_t flags[4];
  uint64_t n = 0;
  const auto corrupt = [&] { return Error(cache_path + ": damaged (truncated payload)"); };
  if (!r.Get(spec.unk_id) || !r.Get(spec.bos_id) || !r.Get(flags, 4)) return corrupt();
  spec.byte_fallback = flags[0] != 0;
  spec.fuse_unk = flags[1] != 0;
  spec.add_bos = flags[2] != 0;
  if (!r.Get(n) || n == 0 || n > r.left() / sizeof(uint32_t)) return corrupt();
  spec.piece_offsets.resize(n);
  if (!r.Get(spec.piece_offsets.data(), n * sizeof(uint32_t))) return corrupt();
  if (!r.Get(n) || n > r.left()) return corrupt();
  spec.piece_blob.resize(n);
  if (!r.Get(spec.piece_blob.data(), n)) return corrupt();
  for (size_t i = 0; i + 1 < spec.piece_offsets.size(); ++i)
    if (spec.piece_offsets[i] > spec.piece_offsets[i + 1]) return corrupt();
  if (spec.piece_offsets.front() != 0 || spec.piece_offsets.back() != spec.piece_blob.size()) return corrupt();
  if (!r.Get(n) || n > r.left() / sizeof(Merge)) return corrupt();
  spec.merges.resize(n);
  if (!r.Get(spec.merges.data(), n * sizeof(Merge))) return corrupt();
  const int32_t np = spec.num_pieces();
  for (const Merge& m : spec.merges)
    if (m.left < 0 || m.left >= np || m.right < 0 || m.right >= np || m.result < 0 || m.result >= np)
      return corrupt();
  if (!r.Get(n)) return corrupt();
  for (uint64_t i = 0; i < n; ++i) {
    AddedToken a;
    uint8_t special = 0;
    uint64_t len = 0;
    if (!r.Get(a.id) || !r.Get(special) || !r.Get(len) || len > r.left()) return corrupt();
    a.special = special != 0;
    a.content.resize(len);
    if (!r.Get(a.content.data(), len)) return corrupt();
    spec.added.push_back(std::move(a));
  }
  return spec;
}

}  // namespace g3n
