// Reader for GGUF (version 2 and 3), the file format of ggml / llama.cpp: a header, typed
// key-value metadata, tensor infos, then the tensor data section at an aligned offset. The file
// is mapped, never copied; tensors are views into the map. Every count, length, dimension and
// offset is validated against the file before it is used, so a truncated or corrupt file gives
// an error naming the file, the key or tensor and the byte offset, never a crash.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "io/mapped_file.h"
#include "util/status.h"

namespace g3n {

// GGUF metadata value types (gguf.h in ggml).
enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* GgufTypeName(GgufType t);

// ggml tensor type ids (ggml.h `enum ggml_type`) for the types the engine reads.
enum GgmlTypeId : uint32_t {
  kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ4_0 = 2, kGgmlQ4_1 = 3, kGgmlQ5_0 = 6, kGgmlQ5_1 = 7,
  kGgmlQ8_0 = 8, kGgmlQ4_K = 12, kGgmlQ5_K = 13, kGgmlQ6_K = 14, kGgmlQ8_K = 15, kGgmlBF16 = 30,
};
DType DTypeFromGgml(uint32_t ggml_type);           // Unknown for types we do not read
std::optional<uint32_t> GgmlFromDType(DType t);    // nullopt for non-ggml types
const char* GgmlTypeName(uint32_t ggml_type);      // ggml's name, also for types we do not read

// One metadata value. Scalars live in the first matching field; arrays in the vectors (integer
// and bool arrays in `ints`, float arrays in `floats`, string arrays in `strings`).
struct GgufValue {
  GgufType type = GgufType::U8;
  GgufType elem_type = GgufType::U8;  // for arrays
  uint64_t offset = 0;                // byte offset of the key in the file, for messages
  int64_t i = 0;                      // all integer types (U64 above INT64_MAX is rejected) and bool
  double f = 0.0;                     // F32, F64
  std::string s;                      // String
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  // Arrays longer than kGgufEagerArray (the tokenizer's 262k tokens, scores, types) are checked
  // at open but left in the file; the Get*Array accessors read them when asked, so a model
  // that never needs its vocabulary does not hold a copy of it.
  bool lazy = false;
  uint64_t array_count = 0;
  uint64_t array_at = 0;  // file offset of the first element

  bool is_int() const;    // any integer type or bool
  bool is_float() const;  // F32 or F64
  size_t array_size() const;
};

inline constexpr uint64_t kGgufEagerArray = 4096;

struct GgufTensor {
  std::string name;
  uint32_t ggml_type = 0;
  DType dtype = DType::Unknown;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the contiguous dimension
  uint64_t offset = 0;      // relative to the data section
  uint64_t info_offset = 0; // byte offset of this tensor's info entry in the file
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const;
};

struct GgufFile {
  std::shared_ptr<MappedFile> file;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // file offset of the data section
  std::vector<std::string> keys;             // in file order
  std::map<std::string, GgufValue> kv;
  std::vector<GgufTensor> tensors;           // in file order
  std::map<std::string, size_t> tensor_index;

  const std::string& path() const { return file->path(); }
  const GgufValue* Find(const std::string& key) const;
  const GgufTensor* FindTensor(const std::string& name) const;

  // Typed access. A missing key is an error naming the file and key; so is a value of another
  // type (integer getters accept every integer type whose value fits; float getters also accept
  // integers). The *Or forms return `def` when the key is absent (but still fail on a wrong type).
  Result<int64_t> GetInt(const std::string& key) const;
  Result<double> GetFloat(const std::string& key) const;
  Result<bool> GetBool(const std::string& key) const;
  Result<std::string> GetString(const std::string& key) const;
  Result<int64_t> GetIntOr(const std::string& key, int64_t def) const;
  Result<double> GetFloatOr(const std::string& key, double def) const;
  Result<std::vector<int64_t>> GetIntArray(const std::string& key) const;   // also bool arrays
  Result<std::vector<double>> GetFloatArray(const std::string& key) const;
  Result<std::vector<std::string>> GetStringArray(const std::string& key) const;
  std::string Where(const std::string& key) const;  // "<path>: key 'k' (at byte N)"
  // The value with a lazy array's elements read in (a copy of it otherwise).
  Result<GgufValue> Materialize(const GgufValue& v) const;
  // The index of `s` in the string array `key` (-1 if absent), read in place without copying
  // the array (the vocabulary is 262k strings).
  Result<int64_t> IndexOfString(const std::string& key, const std::string& s) const;
};

Result<GgufFile> ParseGguf(std::shared_ptr<MappedFile> file);
Result<GgufFile> OpenGguf(const std::string& path);

// Fails unless general.architecture is `arch`.
Status CheckGgufArchitecture(const GgufFile& f, const std::string& arch);

// The tokenizer as GGUF stores it (tokenizer.ggml.*). Ids are -1 when absent; the add_* flags
// are nullopt when absent (each runtime has its own default then).
struct GgufTokenizer {
  std::string model;  // "llama" (SentencePiece), "gpt2" (byte-level BPE), ...
  std::string pre;    // pre-tokenizer name, "default" for SentencePiece
  std::vector<std::string> tokens;
  std::vector<float> scores;       // empty if absent
  std::vector<int32_t> token_type; // empty if absent; 1 normal, 2 unknown, 3 control, 4 user, 5 unused, 6 byte
  std::vector<std::string> merges; // empty if absent (SentencePiece vocabularies have none)
  int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1, sep_id = -1, mask_id = -1, eot_id = -1, eom_id = -1;
  std::optional<bool> add_bos, add_eos, add_sep, add_space_prefix;
  std::string chat_template;  // tokenizer.chat_template, empty if absent
};

// Reads and cross-checks tokenizer.ggml.* (array lengths agree, ids inside the vocabulary).
Result<GgufTokenizer> ReadGgufTokenizer(const GgufFile& f);

}  // namespace g3n
