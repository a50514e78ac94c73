#include "io/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace g3n {
namespace {

constexpr uint32_t kMaxDims = 4;       // GGML_MAX_DIMS
constexpr size_t kMaxTensorName = 63;  // GGML_MAX_NAME - 1
constexpr uint64_t kMaxKeyLength = 1u << 16;

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Sequential little-endian reads over the mapped bytes. The first failure sticks: later reads
// return false and the status names what was being read and where.
class Cursor {
 public:
  Cursor(const GgufFile& f) : path_(f.path()), p_(f.file->data()), n_(f.file->size()) {}
  uint64_t pos() const { return pos_; }
  void Seek(uint64_t pos) { pos_ = pos; }
  uint64_t remaining() const { return n_ - pos_; }
  const Status& status() const { return st_; }
  bool ok() const { return st_.ok(); }

  bool Fail(const std::string& msg) {
    if (st_.ok()) st_ = Error(path_ + ": " + msg);
    return false;
  }
  bool Need(uint64_t bytes, const std::string& what) {
    if (!st_.ok()) return false;
    if (bytes > remaining())
      return Fail("truncated file: " + what + " at byte " + std::to_string(pos_) + " needs " + std::to_string(bytes) +
                  " bytes, only " + std::to_string(remaining()) + " left (file is " + std::to_string(n_) + " bytes)");
    return true;
  }
  template <class T>
  bool Read(T& v, const std::string& what) {
    if (!Need(sizeof(T), what)) return false;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool String(std::string& s, const std::string& what, uint64_t max_len) {
    uint64_t len = 0;
    const uint64_t at = pos_;
    if (!Read(len, what + " length")) return false;
    if (len > max_len)
      return Fail(what + " at byte " + std::to_string(at) + " claims " + std::to_string(len) + " bytes (limit " +
                  std::to_string(max_len) + ")");
    if (!Need(len, what)) return false;
    s.assign(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return true;
  }

 private:
  std::string path_;
  const uint8_t* p_;
  uint64_t n_;
  uint64_t pos_ = 0;
  Status st_;
};

size_t ScalarSize(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::Bool: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;
  }
}

bool KnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::F64); }

bool IsIntType(GgufType t) {
  return t == GgufType::U8 || t == GgufType::I8 || t == GgufType::U16 || t == GgufType::I16 || t == GgufType::U32 ||
         t == GgufType::I32 || t == GgufType::U64 || t == GgufType::I64 || t == GgufType::Bool;
}

// Reads one scalar of type t into v (ints / f / s).
bool ReadScalar(Cursor& c, GgufType t, GgufValue& v, const std::string& what, int64_t& iout, double& fout,
                std::string& sout) {
  switch (t) {
    case GgufType::U8: { uint8_t x; if (!c.Read(x, what)) return false; iout = x; return true; }
    case GgufType::I8: { int8_t x; if (!c.Read(x, what)) return false; iout = x; return true; }
    case GgufType::U16: { uint16_t x; if (!c.Read(x, what)) return false; iout = x; return true; }
    case GgufType::I16: { int16_t x; if (!c.Read(x, what)) return false; iout = x; return true; }
    case GgufType::U32: { uint32_t x; if (!c.Read(x, what)) return false; iout = x; return true; }
    case GgufType::I32: { int32_t x; if (!c.Read(x, what)) return false; iout = x; return true; }
    case GgufType::I64: { int64_t x; if (!c.Read(x, what)) return false; iout = x; return true; }
    case GgufType::U64: {
      uint64_t x;
      const uint64_t at = c.pos();
      if (!c.Read(x, what)) return false;
      if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return c.Fail(what + " at byte " + std::to_string(at) + ": u64 value " + std::to_string(x) + " is too large");
      iout = static_cast<int64_t>(x);
      return true;
    }
    case GgufType::Bool: {
      uint8_t x;
      const uint64_t at = c.pos();
      if (!c.Read(x, what)) return false;
      if (x > 1) return c.Fail(what + " at byte " + std::to_string(at) + ": bool value " + std::to_string(x) + " is not 0 or 1");
      iout = x;
      return true;
    }
    case GgufType::F32: { float x; if (!c.Read(x, what)) return false; fout = x; return true; }
    case GgufType::F64: { double x; if (!c.Read(x, what)) return false; fout = x; return true; }
    case GgufType::String: return c.String(sout, what, c.remaining());
    default: (void)v; return c.Fail(what + ": unexpected type");
  }
}

// Reads (and checks) n array elements; `store` keeps them in v.
bool ReadElements(Cursor& c, GgufValue& v, uint64_t n, const std::string& what, bool store) {
  int64_t iv = 0;
  double fv = 0;
  std::string sv;
  if (store) {
    if (IsIntType(v.elem_type)) v.ints.reserve(n);
    else if (v.elem_type == GgufType::String) v.strings.reserve(n);
    else v.floats.reserve(n);
  }
  for (uint64_t k = 0; k < n; ++k) {
    if (!ReadScalar(c, v.elem_type, v, what + "[" + std::to_string(k) + "]", iv, fv, sv)) return false;
    if (!store) continue;
    if (IsIntType(v.elem_type)) v.ints.push_back(iv);
    else if (v.elem_type == GgufType::String) v.strings.push_back(std::move(sv));
    else v.floats.push_back(fv);
  }
  return true;
}

bool ReadValue(Cursor& c, GgufValue& v, const std::string& what) {
  uint32_t t = 0;
  const uint64_t type_at = c.pos();
  if (!c.Read(t, what + " type")) return false;
  if (!KnownType(t)) return c.Fail(what + ": unknown value type " + std::to_string(t) + " at byte " + std::to_string(type_at));
  v.type = static_cast<GgufType>(t);
  if (v.type != GgufType::Array) return ReadScalar(c, v.type, v, what, v.i, v.f, v.s);
  uint32_t et = 0;
  uint64_t n = 0;
  if (!c.Read(et, what + " array element type") || !c.Read(n, what + " array length")) return false;
  if (!KnownType(et)) return c.Fail(what + ": unknown array element type " + std::to_string(et));
  v.elem_type = static_cast<GgufType>(et);
  if (v.elem_type == GgufType::Array) return c.Fail(what + ": nested arrays are not supported");
  // Every element needs at least its fixed size (8 for a string's length), so a length that
  // cannot fit in the rest of the file is rejected before anything is allocated.
  const uint64_t min_elem = v.elem_type == GgufType::String ? 8 : ScalarSize(v.elem_type);
  if (n > c.remaining() / min_elem)
    return c.Fail(what + ": array of " + std::to_string(n) + " " + GgufTypeName(v.elem_type) +
                  " elements does not fit in the " + std::to_string(c.remaining()) + " bytes left at byte " +
                  std::to_string(c.pos()) + " (file truncated or length corrupt)");
  v.array_count = n;
  v.array_at = c.pos();
  v.lazy = n > kGgufEagerArray;
  return ReadElements(c, v, n, what, /*store=*/!v.lazy);
}

}  // namespace

const char* GgufTypeName(GgufType t) {
  switch (t) {
    case GgufType::U8: return "u8";
    case GgufType::I8: return "i8";
    case GgufType::U16: return "u16";
    case GgufType::I16: return "i16";
    case GgufType::U32: return "u32";
    case GgufType::I32: return "i32";
    case GgufType::F32: return "f32";
    case GgufType::Bool: return "bool";
    case GgufType::String: return "string";
    case GgufType::Array: return "array";
    case GgufType::U64: return "u64";
    case GgufType::I64: return "i64";
    case GgufType::F64: return "f64";
  }
  return "?";
}

DType DTypeFromGgml(uint32_t t) {
  switch (t) {
    case kGgmlF32: return DType::F32;
    case kGgmlF16: return DType::F16;
    case kGgmlBF16: return DType::BF16;
    case kGgmlQ4_0: return DType::Q4_0;
    case kGgmlQ4_1: return DType::Q4_1;
    case kGgmlQ5_0: return DType::Q5_0;
    case kGgmlQ5_1: return DType::Q5_1;
    case kGgmlQ8_0: return DType::Q8_0;
    case kGgmlQ4_K: return DType::Q4_K;
    case kGgmlQ5_K: return DType::Q5_K;
    case kGgmlQ6_K: return DType::Q6_K;
    case kGgmlQ8_K: return DType::Q8_K;
    default: return DType::Unknown;
  }
}

std::optional<uint32_t> GgmlFromDType(DType t) {
  for (uint32_t id : {kGgmlF32, kGgmlF16, kGgmlBF16, kGgmlQ4_0, kGgmlQ4_1, kGgmlQ5_0, kGgmlQ5_1, kGgmlQ8_0, kGgmlQ4_K,
                      kGgmlQ5_K, kGgmlQ6_K, kGgmlQ8_K})
    if (DTypeFromGgml(id) == t) return id;
  return std::nullopt;
}

const char* GgmlTypeName(uint32_t t) {
  static const char* const kNames[] = {
      "F32",     "F16",    "Q4_0",    "Q4_1",  "Q4_2",  "Q4_3",  "Q5_0",   "Q5_1",  "Q8_0",   "Q8_1",
      "Q2_K",    "Q3_K",   "Q4_K",    "Q5_K",  "Q6_K",  "Q8_K",  "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
      "IQ4_NL",  "IQ3_S",  "IQ2_S",   "IQ4_XS", "I8",   "I16",   "I32",    "I64",   "F64",    "IQ1_M",
      "BF16",    "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8",
      "MXFP4"};
  return t < sizeof(kNames) / sizeof(kNames[0]) ? kNames[t] : "unknown";
}

bool GgufValue::is_int() const { return IsIntType(type); }
bool GgufValue::is_float() const { return type == GgufType::F32 || type == GgufType::F64; }
size_t GgufValue::array_size() const {
  return lazy ? static_cast<size_t>(array_count) : ints.size() + floats.size() + strings.size();
}

Result<int64_t> GgufFile::IndexOfString(const std::string& key, const std::string& s) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Error(path() + ": missing metadata key '" + key + "'");
  if (v->type != GgufType::Array || v->elem_type != GgufType::String)
    return Error(Where(key) + " is not an array of strings");
  if (!v->lazy) {
    auto it = std::find(v->strings.begin(), v->strings.end(), s);
    return it == v->strings.end() ? int64_t{-1} : static_cast<int64_t>(it - v->strings.begin());
  }
  // Checked at open: every length fits in the file.
  const uint8_t* p = file->data() + v->array_at;
  for (uint64_t k = 0; k < v->array_count; ++k) {
    uint64_t len = 0;
    std::memcpy(&len, p, 8);
    if (len == s.size() && std::memcmp(p + 8, s.data(), len) == 0) return static_cast<int64_t>(k);
    p += 8 + len;
  }
  return int64_t{-1};
}

Result<GgufValue> GgufFile::Materialize(const GgufValue& v) const {
  if (!v.lazy) return v;
  GgufValue out = v;
  out.lazy = false;
  Cursor c(*this);
  c.Seek(v.array_at);
  if (!ReadElements(c, out, v.array_count, "array", /*store=*/true)) return c.status();
  return out;
}

int64_t GgufTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

const GgufValue* GgufFile::Find(const std::string& key) const {
  auto it = kv.find(key);
  return it == kv.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::FindTensor(const std::string& name) const {
  auto it = tensor_index.find(name);
  return it == tensor_index.end() ? nullptr : &tensors[it->second];
}

std::string GgufFile::Where(const std::string& key) const {
  const GgufValue* v = Find(key);
  return path() + ": key '" + key + "'" + (v ? " (at byte " + std::to_string(v->offset) + ")" : "");
}

Result<int64_t> GgufFile::GetInt(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Error(path() + ": missing metadata key '" + key + "'");
  if (!v->is_int() || v->type == GgufType::Bool)
    return Error(Where(key) + " is " + GgufTypeName(v->type) + ", expected an integer");
  return v->i;
}

Result<int64_t> GgufFile::GetIntOr(const std::string& key, int64_t def) const {
  if (Find(key) == nullptr) return def;
  return GetInt(key);
}

Result<double> GgufFile::GetFloat(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Error(path() + ": missing metadata key '" + key + "'");
  if (v->is_float()) return v->f;
  if (v->is_int() && v->type != GgufType::Bool) return static_cast<double>(v->i);
  return Error(Where(key) + " is " + GgufTypeName(v->type) + ", expected a number");
}

Result<double> GgufFile::GetFloatOr(const std::string& key, double def) const {
  if (Find(key) == nullptr) return def;
  return GetFloat(key);
}

Result<bool> GgufFile::GetBool(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Error(path() + ": missing metadata key '" + key + "'");
  if (v->type != GgufType::Bool) return Error(Where(key) + " is " + GgufTypeName(v->type) + ", expected bool");
  return v->i != 0;
}

Result<std::string> GgufFile::GetString(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Error(path() + ": missing metadata key '" + key + "'");
  if (v->type != GgufType::String) return Error(Where(key) + " is " + GgufTypeName(v->type) + ", expected a string");
  return v->s;
}

Result<std::vector<int64_t>> GgufFile::GetIntArray(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Error(path() + ": missing metadata key '" + key + "'");
  if (v->type != GgufType::Array || !IsIntType(v->elem_type))
    return Error(Where(key) + " is " + GgufTypeName(v->type) +
                 (v->type == GgufType::Array ? std::string(" of ") + GgufTypeName(v->elem_type) : std::string()) +
                 ", expected an array of integers");
  G3N_ASSIGN_OR_RETURN(GgufValue m, Materialize(*v));
  return std::move(m.ints);
}

Result<std::vector<double>> GgufFile::GetFloatArray(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Error(path() + ": missing metadata key '" + key + "'");
  if (v->type == GgufType::Array && (v->elem_type == GgufType::F32 || v->elem_type == GgufType::F64)) {
    G3N_ASSIGN_OR_RETURN(GgufValue m, Materialize(*v));
    return std::move(m.floats);
  }
  if (v->type == GgufType::Array && IsIntType(v->elem_type) && v->elem_type != GgufType::Bool) {
    G3N_ASSIGN_OR_RETURN(GgufValue m, Materialize(*v));
    return std::vector<double>(m.ints.begin(), m.ints.end());
  }
  return Error(Where(key) + " is " + GgufTypeName(v->type) +
               (v->type == GgufType::Array ? std::string(" of ") + GgufTypeName(v->elem_type) : std::string()) +
               ", expected an array of numbers");
}

Result<std::vector<std::string>> GgufFile::GetStringArray(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Error(path() + ": missing metadata key '" + key + "'");
  if (v->type != GgufType::Array || v->elem_type != GgufType::String)
    return Error(Where(key) + " is " + GgufTypeName(v->type) +
                 (v->type == GgufType::Array ? std::string(" of ") + GgufTypeName(v->elem_type) : std::string()) +
                 ", expected an array of strings");
  G3N_ASSIGN_OR_RETURN(GgufValue m, Materialize(*v));
  return std::move(m.strings);
}

Result<GgufFile> ParseGguf(std::shared_ptr<MappedFile> mf) {
  GgufFile f;
  f.file = std::move(mf);
  const std::string& path = f.path();
  Cursor c(f);

  // Header: magic, version, tensor count, metadata count.
  if (f.file->size() < 4) return Error(path + ": not a GGUF file (" + std::to_string(f.file->size()) + " bytes, no magic)");
  if (std::memcmp(f.file->data(), "GGUF", 4) != 0) {
    std::string got;
    for (int k = 0; k < 4; ++k) {
      const uint8_t b = f.file->data()[k];
      got += (b >= 32 && b < 127) ? std::string(1, static_cast<char>(b)) : "\\x" + Hex(b).substr(2);
    }
    return Error(path + ": not a GGUF file (magic '" + got + "', expected 'GGUF')");
  }
  uint32_t magic = 0;
  c.Read(magic, "magic");
  if (!c.Read(f.version, "version")) return c.status();
  if (f.version == 1) return Error(path + ": GGUF version 1 is not supported (re-convert the model)");
  if (f.version != 2 && f.version != 3)
    return Error(path + ": unsupported GGUF version " + std::to_string(f.version) + " (supported: 2, 3)");
  int64_t n_tensors = 0, n_kv = 0;
  if (!c.Read(n_tensors, "tensor count") || !c.Read(n_kv, "metadata count")) return c.status();
  // Each metadata entry takes at least 8 (key length) + 4 (type) + 1 bytes, each tensor info at
  // least 8 + 4 + 4 + 8.
  if (n_kv < 0 || static_cast<uint64_t>(n_kv) > c.remaining() / 13)
    return Error(path + ": metadata count " + std::to_string(n_kv) + " at byte 16 is impossible for a file of " +
                 std::to_string(f.file->size()) + " bytes");
  if (n_tensors < 0 || static_cast<uint64_t>(n_tensors) > c.remaining() / 24)
    return Error(path + ": tensor count " + std::to_string(n_tensors) + " at byte 8 is impossible for a file of " +
                 std::to_string(f.file->size()) + " bytes");

  // Metadata.
  for (int64_t k = 0; k < n_kv; ++k) {
    const uint64_t at = c.pos();
    std::string key;
    if (!c.String(key, "metadata key #" + std::to_string(k), kMaxKeyLength)) return c.status();
    GgufValue v;
    v.offset = at;
    if (!ReadValue(c, v, "metadata key '" + key + "' (at byte " + std::to_string(at) + ")")) return c.status();
    if (f.kv.count(key)) return Error(path + ": duplicate metadata key '" + key + "' at byte " + std::to_string(at));
    f.keys.push_back(key);
    f.kv.emplace(key, std::move(v));
  }
  if (const GgufValue* a = f.Find("general.alignment")) {
    if (a->type != GgufType::U32)
      return Error(f.Where("general.alignment") + " is " + GgufTypeName(a->type) + ", expected u32");
    if (a->i == 0 || (a->i & (a->i - 1)) != 0)
      return Error(f.Where("general.alignment") + " is " + std::to_string(a->i) + ", not a power of two");
    f.alignment = static_cast<uint64_t>(a->i);
  }

  // Tensor infos.
  for (int64_t k = 0; k < n_tensors; ++k) {
    GgufTensor t;
    t.info_offset = c.pos();
    const std::string what = "tensor info #" + std::to_string(k);
    if (!c.String(t.name, what + " name", c.remaining())) return c.status();
    const std::string where = path + ": tensor '" + t.name + "' (info at byte " + std::to_string(t.info_offset) + ")";
    if (t.name.size() > kMaxTensorName)
      return Error(where + ": name is " + std::to_string(t.name.size()) + " bytes, ggml allows " +
                   std::to_string(kMaxTensorName));
    uint32_t n_dims = 0;
    if (!c.Read(n_dims, what + " dimension count")) return c.status();
    if (n_dims == 0 || n_dims > kMaxDims)
      return Error(where + ": " + std::to_string(n_dims) + " dimensions (ggml allows 1 to " + std::to_string(kMaxDims) + ")");
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      int64_t ne = 0;
      if (!c.Read(ne, what + " ne[" + std::to_string(d) + "]")) return c.status();
      if (ne < 0) return Error(where + ": dimension ne[" + std::to_string(d) + "] = " + std::to_string(ne) + " is negative");
      if (ne != 0 && numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / static_cast<uint64_t>(ne))
        return Error(where + ": dimensions overflow (element count exceeds 2^63)");
      numel *= static_cast<uint64_t>(ne);
      t.ne.push_back(ne);
    }
    if (!c.Read(t.ggml_type, what + " type") || !c.Read(t.offset, what + " data offset")) return c.status();
    t.dtype = DTypeFromGgml(t.ggml_type);
    if (t.dtype == DType::Unknown)
      return Error(where + ": ggml type " + std::to_string(t.ggml_type) + " (" + GgmlTypeName(t.ggml_type) +
                   ") is not supported (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, Q8_K)");
    const int64_t be = BlockElems(t.dtype);
    if (t.ne[0] % be != 0)
      return Error(where + ": ne[0] = " + std::to_string(t.ne[0]) + " is not a multiple of the " + DTypeName(t.dtype) +
                   " block size " + std::to_string(be));
    const uint64_t blocks = numel / static_cast<uint64_t>(be);
    if (blocks > std::numeric_limits<uint64_t>::max() / BlockBytes(t.dtype))
      return Error(where + ": byte size overflows");
    t.nbytes = static_cast<size_t>(blocks * BlockBytes(t.dtype));
    if (f.tensor_index.count(t.name)) return Error(where + ": duplicate tensor name");
    f.tensor_index.emplace(t.name, f.tensors.size());
    f.tensors.push_back(std::move(t));
  }

  // Data section: starts at the next multiple of the alignment.
  const uint64_t end_of_infos = c.pos();
  f.data_offset = (end_of_infos + f.alignment - 1) / f.alignment * f.alignment;
  if (f.tensors.empty()) return f;
  if (f.data_offset > f.file->size())
    return Error(path + ": truncated file: the data section should start at byte " + std::to_string(f.data_offset) +
                 " but the file has " + std::to_string(f.file->size()) + " bytes");
  const uint64_t data_size = f.file->size() - f.data_offset;
  std::vector<const GgufTensor*> by_offset;
  for (GgufTensor& t : f.tensors) {
    const std::string where = path + ": tensor '" + t.name + "' (info at byte " + std::to_string(t.info_offset) + ")";
    if (t.offset % f.alignment != 0)
      return Error(where + ": data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                   std::to_string(f.alignment));
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      return Error(where + ": data [" + std::to_string(t.offset) + ", " + std::to_string(t.offset + t.nbytes) +
                   ") of the data section lies outside it (" + std::to_string(data_size) + " bytes from byte " +
                   std::to_string(f.data_offset) + "; file truncated or offset corrupt)");
    t.data = f.file->data() + f.data_offset + t.offset;
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const GgufTensor* a, const GgufTensor* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const GgufTensor& a = *by_offset[k - 1];
    const GgufTensor& b = *by_offset[k];
    if (a.offset + a.nbytes > b.offset)
      return Error(path + ": tensors '" + a.name + "' [" + std::to_string(a.offset) + ", " +
                   std::to_string(a.offset + a.nbytes) + ") and '" + b.name + "' [" + std::to_string(b.offset) +
                   ", ...) overlap in the data section");
  }
  // Everything before the data section has been parsed (the vocabulary alone is ~6 MB): its
  // pages need not stay mapped.
  DropPages(f.file->data(), f.data_offset);
  return f;
}

Result<GgufFile> OpenGguf(const std::string& path) {
  G3N_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> f, MappedFile::Open(path));
  return ParseGguf(std::move(f));
}

Status CheckGgufArchitecture(const GgufFile& f, const std::string& arch) {
  if (f.Find("general.architecture") == nullptr)
    return Error(f.path() + ": missing metadata key 'general.architecture' (expected '" + arch + "')");
  G3N_ASSIGN_OR_RETURN(std::string a, f.GetString("general.architecture"));
  if (a != arch)
    return Error(f.Where("general.architecture") + " is '" + a + "', expected '" + arch +
                 "' (this engine runs Gemma 3n only)");
  return Status();
}

Result<GgufTokenizer> ReadGgufTokenizer(const GgufFile& f) {
  GgufTokenizer t;
  G3N_ASSIGN_OR_RETURN(t.model, f.GetString("tokenizer.ggml.model"));
  if (f.Find("tokenizer.ggml.pre")) {
    G3N_ASSIGN_OR_RETURN(t.pre, f.GetString("tokenizer.ggml.pre"));
  }
  G3N_ASSIGN_OR_RETURN(t.tokens, f.GetStringArray("tokenizer.ggml.tokens"));
  const size_t n = t.tokens.size();
  if (f.Find("tokenizer.ggml.scores")) {
    G3N_ASSIGN_OR_RETURN(std::vector<double> s, f.GetFloatArray("tokenizer.ggml.scores"));
    if (s.size() != n)
      return Error(f.Where("tokenizer.ggml.scores") + " has " + std::to_string(s.size()) + " entries for " +
                   std::to_string(n) + " tokens");
    t.scores.assign(s.begin(), s.end());
  }
  if (f.Find("tokenizer.ggml.token_type")) {
    G3N_ASSIGN_OR_RETURN(std::vector<int64_t> tt, f.GetIntArray("tokenizer.ggml.token_type"));
    if (tt.size() != n)
      return Error(f.Where("tokenizer.ggml.token_type") + " has " + std::to_string(tt.size()) + " entries for " +
                   std::to_string(n) + " tokens");
    for (int64_t v : tt) {
      if (v < 0 || v > 6) return Error(f.Where("tokenizer.ggml.token_type") + " has unknown token type " + std::to_string(v));
      t.token_type.push_back(static_cast<int32_t>(v));
    }
  }
  if (f.Find("tokenizer.ggml.merges")) {
    G3N_ASSIGN_OR_RETURN(t.merges, f.GetStringArray("tokenizer.ggml.merges"));
  }
  const std::pair<const char*, int32_t*> ids[] = {
      {"bos", &t.bos_id}, {"eos", &t.eos_id}, {"unknown", &t.unk_id}, {"padding", &t.pad_id},
      {"seperator", &t.sep_id}, {"mask", &t.mask_id}, {"eot", &t.eot_id}, {"eom", &t.eom_id}};
  for (const auto& [name, out] : ids) {
    const std::string key = std::string("tokenizer.ggml.") + name + "_token_id";
    if (!f.Find(key)) continue;
    G3N_ASSIGN_OR_RETURN(int64_t id, f.GetInt(key));
    if (id < 0 || static_cast<uint64_t>(id) >= n)
      return Error(f.Where(key) + " = " + std::to_string(id) + " is outside the " + std::to_string(n) + "-token vocabulary");
    *out = static_cast<int32_t>(id);
  }
  const std::pair<const char*, std::optional<bool>*> flags[] = {{"tokenizer.ggml.add_bos_token", &t.add_bos},
                                                                {"tokenizer.ggml.add_eos_token", &t.add_eos},
                                                                {"tokenizer.ggml.add_sep_token", &t.add_sep},
                                                                {"tokenizer.ggml.add_space_prefix", &t.add_space_prefix}};
  for (const auto& [key, out] : flags) {
    if (!f.Find(key)) continue;
    G3N_ASSIGN_OR_RETURN(bool b, f.GetBool(key));
    *out = b;
  }
  if (f.Find("tokenizer.chat_template")) {
    G3N_ASSIGN_OR_RETURN(t.chat_template, f.GetString("tokenizer.chat_template"));
  }
  return t;
}

}  // namespace g3n
