// Writer for GGUF version 3 files, streaming: metadata and tensor infos are declared first,
// then the header is written and tensor data is appended tensor by tensor (so a multi-GB model
// never has to be in memory). The file is written as PATH.tmp and renamed on Finish.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "util/status.h"

namespace g3n {

class GgufWriter {
 public:
  GgufWriter() = default;
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Metadata, kept in the order added (a key added twice keeps its first place, last value).
  void AddString(const std::string& key, const std::string& v);
  void AddU32(const std::string& key, uint32_t v);
  void AddI32(const std::string& key, int32_t v);
  void AddF32(const std::string& key, float v);
  void AddBool(const std::string& key, bool v);
  void AddI32Array(const std::string& key, const std::vector<int32_t>& v);
  void AddU32Array(const std::string& key, const std::vector<uint32_t>& v);
  void AddF32Array(const std::string& key, const std::vector<float>& v);
  void AddBoolArray(const std::string& key, const std::vector<bool>& v);
  void AddStringArray(const std::string& key, const std::vector<std::string>& v);
  void SetAlignment(uint32_t a);  // power of two; writes general.alignment when not 32

  // Declares a tensor with its ggml shape (ne[0] contiguous). Returns its index.
  size_t AddTensor(const std::string& name, const std::vector<int64_t>& ne, DType dtype);
  size_t TensorBytes(size_t index) const { return tensors_[index].nbytes; }
  size_t num_tensors() const { return tensors_.size(); }

  // Writes header, metadata and tensor infos. Then call Append for each tensor's bytes, in the
  // declared order (any number of calls per tensor), and Finish.
  Status Begin(const std::string& path);
  Status Append(const void* data, size_t n);
  Status Finish();

 private:
  struct Entry {
    std::string key;
    std::vector<uint8_t> bytes;  // type + value, serialized
  };
  struct TensorInfo {
    std::string name;
    std::vector<int64_t> ne;
    DType dtype;
    size_t nbytes;
    uint64_t offset;
  };
  void Put(const std::string& key, std::vector<uint8_t> bytes);
  Status WriteRaw(const void* data, size_t n);
  Status PadTo(uint64_t alignment);

  std::vector<Entry> kv_;
  std::vector<TensorInfo> tensors_;
  uint32_t alignment_ = 32;
  std::string path_, tmp_path_;
  std::FILE* fp_ = nullptr;
  uint64_t pos_ = 0;
  size_t cur_ = 0;          // tensor being appended
  size_t cur_written_ = 0;  // bytes of it written so far
};

}  // namespace g3n
