#include "io/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/gguf.h"

namespace g3n {
namespace {

template <class T>
void PutPod(std::vector<uint8_t>& b, T v) {
  const size_t at = b.size();
  b.resize(at + sizeof(T));
  std::memcpy(b.data() + at, &v, sizeof(T));
}

void PutStr(std::vector<uint8_t>& b, const std::string& s) {
  PutPod<uint64_t>(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

void PutType(std::vector<uint8_t>& b, GgufType t) { PutPod<uint32_t>(b, static_cast<uint32_t>(t)); }

template <class T>
std::vector<uint8_t> PodArray(GgufType et, const std::vector<T>& v) {
  std::vector<uint8_t> b;
  PutType(b, GgufType::Array);
  PutType(b, et);
  PutPod<uint64_t>(b, v.size());
  for (const T& x : v) PutPod<T>(b, x);
  return b;
}

}  // namespace

GgufWriter::~GgufWriter() {
  if (fp_ != nullptr) {
    std::fclose(fp_);
    std::error_code ec;
    std::filesystem::remove(tmp_path_, ec);
  }
}

void GgufWriter::Put(const std::string& key, std::vector<uint8_t> bytes) {
  for (Entry& e : kv_)
    if (e.key == key) {
      e.bytes = std::move(bytes);
      return;
    }
  kv_.push_back({key, std::move(bytes)});
}

void GgufWriter::AddString(const std::string& key, const std::string& v) {
  std::vector<uint8_t> b;
  PutType(b, GgufType::String);
  PutStr(b, v);
  Put(key, std::move(b));
}

void GgufWriter::AddU32(const std::string& key, uint32_t v) {
  std::vector<uint8_t> b;
  PutType(b, GgufType::U32);
  PutPod(b, v);
  Put(key, std::move(b));
}

void GgufWriter::AddI32(const std::string& key, int32_t v) {
  std::vector<uint8_t> b;
  PutType(b, GgufType::I32);
  PutPod(b, v);
  Put(key, std::move(b));
}

void GgufWriter::AddF32(const std::string& key, float v) {
  std::vector<uint8_t> b;
  PutType(b, GgufType::F32);
  PutPod(b, v);
  Put(key, std::move(b));
}

void GgufWriter::AddBool(const std::string& key, bool v) {
  std::vector<uint8_t> b;
  PutType(b, GgufType::Bool);
  PutPod<uint8_t>(b, v ? 1 : 0);
  Put(key, std::move(b));
}

void GgufWriter::AddI32Array(const std::string& key, const std::vector<int32_t>& v) {
  Put(key, PodArray(GgufType::I32, v));
}

void GgufWriter::AddU32Array(const std::string& key, const std::vector<uint32_t>& v) {
  Put(key, PodArray(GgufType::U32, v));
}

void GgufWriter::AddF32Array(const std::string& key, const std::vector<float>& v) {
  Put(key, PodArray(GgufType::F32, v));
}

void GgufWriter::AddBoolArray(const std::string& key, const std::vector<bool>& v) {
  std::vector<uint8_t> u;
  for (bool x : v) u.push_back(x ? 1 : 0);
  Put(key, PodArray(GgufType::Bool, u));
}

void GgufWriter::AddStringArray(const std::string& key, const std::vector<std::string>& v) {
  std::vector<uint8_t> b;
  PutType(b, GgufType::Array);
  PutType(b, GgufType::String);
  PutPod<uint64_t>(b, v.size());
  for (const std::string& s : v) PutStr(b, s);
  Put(key, std::move(b));
}

void GgufWriter::SetAlignment(uint32_t a) {
  alignment_ = a;
  if (a != 32) AddU32("general.alignment", a);
}

size_t GgufWriter::AddTensor(const std::string& name, const std::vector<int64_t>& ne, DType dtype) {
  int64_t rows = 1;
  for (size_t i = 1; i < ne.size(); ++i) rows *= ne[i];
  const size_t nbytes = RowBytes(dtype, ne.empty() ? 1 : ne[0]) * static_cast<size_t>(rows);
  uint64_t offset = 0;
  if (!tensors_.empty()) {
    const TensorInfo& last = tensors_.back();
    offset = (last.offset + last.nbytes + alignment_ - 1) / alignment_ * alignment_;
  }
  tensors_.push_back({name, ne, dtype, nbytes, offset});
  return tensors_.size() - 1;
}

Status GgufWriter::WriteRaw(const void* data, size_t n) {
  if (n == 0) return Status();
  if (std::fwrite(data, 1, n, fp_) != n)
    return Error(path_ + ": write failed at byte " + std::to_string(pos_) + ": " + std::strerror(errno));
  pos_ += n;
  return Status();
}

Status GgufWriter::PadTo(uint64_t alignment) {
  static const uint8_t zeros[256] = {};
  uint64_t pad = (alignment - pos_ % alignment) % alignment;
  while (pad > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(pad, sizeof(zeros)));
    G3N_RETURN_IF_ERROR(WriteRaw(zeros, n));
    pad -= n;
  }
  return Status();
}

Status GgufWriter::Begin(const std::string& path) {
  path_ = path;
  tmp_path_ = path + ".tmp";
  for (const TensorInfo& t : tensors_) {
    if (t.nbytes == 0 && !t.ne.empty() && t.ne[0] % BlockElems(t.dtype) != 0)
      return Error(path + ": tensor '" + t.name + "': ne[0] = " + std::to_string(t.ne[0]) +
                   " is not a multiple of the " + DTypeName(t.dtype) + " block size");
    if (!GgmlFromDType(t.dtype)) return Error(path + ": tensor '" + t.name + "': type " + DTypeName(t.dtype) + " has no ggml id");
  }
  fp_ = std::fopen(tmp_path_.c_str(), "wb");
  if (fp_ == nullptr) return Error(tmp_path_ + ": cannot create: " + std::strerror(errno));
  std::vector<uint8_t> h(4);
  std::memcpy(h.data(), "GGUF", 4);
  PutPod<uint32_t>(h, 3);
  PutPod<int64_t>(h, static_cast<int64_t>(tensors_.size()));
  PutPod<int64_t>(h, static_cast<int64_t>(kv_.size()));
  for (const Entry& e : kv_) {
    PutStr(h, e.key);
    h.insert(h.end(), e.bytes.begin(), e.bytes.end());
  }
  for (const TensorInfo& t : tensors_) {
    PutStr(h, t.name);
    PutPod<uint32_t>(h, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) PutPod<int64_t>(h, d);
    PutPod<uint32_t>(h, *GgmlFromDType(t.dtype));
    PutPod<uint64_t>(h, t.offset);
  }
  G3N_RETURN_IF_ERROR(WriteRaw(h.data(), h.size()));
  G3N_RETURN_IF_ERROR(PadTo(alignment_));
  cur_ = 0;
  cur_written_ = 0;
  return Status();
}

Status GgufWriter::Append(const void* data, size_t n) {
  if (fp_ == nullptr) return Error(path_ + ": Append before Begin");
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    while (cur_ < tensors_.size() && tensors_[cur_].nbytes == 0) ++cur_;
    if (cur_ >= tensors_.size()) return Error(path_ + ": more tensor data than the declared tensors hold");
    const TensorInfo& t = tensors_[cur_];
    const size_t take = std::min(n, t.nbytes - cur_written_);
    G3N_RETURN_IF_ERROR(WriteRaw(p, take));
    p += take;
    n -= take;
    cur_written_ += take;
    if (cur_written_ == t.nbytes) {
      ++cur_;
      cur_written_ = 0;
      if (cur_ < tensors_.size()) G3N_RETURN_IF_ERROR(PadTo(alignment_));
    }
  }
  return Status();
}

Status GgufWriter::Finish() {
  if (fp_ == nullptr) return Error(path_ + ": Finish before Begin");
  // Zero-byte tensors at the end count as written.
  while (cur_ < tensors_.size() && tensors_[cur_].nbytes == 0) ++cur_;
  if (cur_ != tensors_.size())
    return Error(path_ + ": only " + std::to_string(cur_) + " of " + std::to_string(tensors_.size()) +
                 " tensors were written (next: '" + tensors_[cur_].name + "')");
  const bool ok = std::fflush(fp_) == 0;
  const int close_rc = std::fclose(fp_);
  fp_ = nullptr;
  if (!ok || close_rc != 0) return Error(tmp_path_ + ": write failed: " + std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(tmp_path_, path_, ec);
  if (ec) return Error(tmp_path_ + ": cannot rename to " + path_ + ": " + ec.message());
  return Status();
}

}  // namespace g3n
