#include "io/safetensors.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace g3n {

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Result<SafetensorsFile> ParseSafetensors(std::shared_ptr<MappedFile> file) {
  const std::string& path = file->path();
  if (file->size() < 8) {
    return Error(path + ": truncated safetensors file (" + std::to_string(file->size()) +
                 " bytes, need at least the 8-byte header length)");
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file->data()[i];
  if (header_len > file->size() - 8) {
    return Error(path + ": header length " + std::to_string(header_len) +
                 " runs past the end of the file (" + std::to_string(file->size()) + " bytes)");
  }
  const char* hdr = reinterpret_cast<const char*>(file->data() + 8);
  nlohmann::json j = nlohmann::json::parse(hdr, hdr + header_len, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error(path + ": header is not a valid JSON object");

  const uint8_t* data_base = file->data() + 8 + header_len;
  const uint64_t data_size = file->size() - 8 - header_len;
  SafetensorsFile out;
  out.file = file;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& e = it.value();
    if (name == "__metadata__") {
      if (e.is_object())
        for (auto m = e.begin(); m != e.end(); ++m)
          if (m.value().is_string()) out.metadata[m.key()] = m.value().get<std::string>();
      continue;
    }
    const std::string where = path + ": tensor '" + name + "'";
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      return Error(where + ": header entry needs dtype, shape and data_offsets");
    if (!e["dtype"].is_string()) return Error(where + ": dtype is not a string");
    TensorView t;
    t.name = name;
    t.file = path;
    const std::string dt = e["dtype"].get<std::string>();
    t.dtype = DTypeFromSafetensors(dt);
    if (t.dtype == DType::Unknown) return Error(where + ": unsupported dtype '" + dt + "'");
    const auto& shape = e["shape"];
    const auto& offs = e["data_offsets"];
    if (!shape.is_array()) return Error(where + ": shape is not an array");
    uint64_t numel = 1;
    for (const auto& d : shape) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) return Error(where + ": bad shape entry");
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / dim / 8)
        return Error(where + ": shape overflows");
      numel *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() || !offs[1].is_number_unsigned())
      return Error(where + ": data_offsets must be two non-negative integers");
    const uint64_t b = offs[0].get<uint64_t>(), en = offs[1].get<uint64_t>();
    if (b > en || en > data_size) {
      return Error(where + ": data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                   "] lie outside the file's data section (" + std::to_string(data_size) +
                   " bytes; file truncated or header corrupt)");
    }
    if (en - b != numel * DTypeSize(t.dtype)) {
      return Error(where + ": byte range holds " + std::to_string(en - b) + " bytes but shape " +
                   ShapeString(t.shape) + " of " + dt + " needs " + std::to_string(numel * DTypeSize(t.dtype)));
    }
    // Tensors are read in place from the map (page aligned), so each one must start at a
    // multiple of its element size; writers that pad the header to 8 bytes guarantee it.
    const uint64_t file_offset = 8 + header_len + b;
    if (file_offset % DTypeSize(t.dtype) != 0) {
      return Error(where + ": data starts at byte " + std::to_string(file_offset) + " of the file, not aligned to its " +
                   std::to_string(DTypeSize(t.dtype)) + "-byte " + dt +
                   " elements (header not padded to 8 bytes?); re-save the file with the safetensors library");
    }
    t.data = data_base + b;
    t.nbytes = en - b;
    out.tensors.emplace(name, std::move(t));
  }
  return out;
}

Result<SafetensorsFile> OpenSafetensors(const std::string& path) {
  G3N_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> f, MappedFile::Open(path));
  return ParseSafetensors(std::move(f));
}

}  // namespace g3n
