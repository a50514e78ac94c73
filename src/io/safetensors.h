// Parser for the safetensors format: u64 header length, JSON header, raw little-endian data.
// Every entry is validated (dtype known, offsets ordered and inside the file, byte count equal
// to the shape's element count) so later code can trust the views.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "io/mapped_file.h"
#include "io/tensor.h"
#include "util/status.h"

namespace g3n {

struct SafetensorsFile {
  std::shared_ptr<MappedFile> file;
  std::map<std::string, TensorView> tensors;
  std::map<std::string, std::string> metadata;
};

Result<SafetensorsFile> ParseSafetensors(std::shared_ptr<MappedFile> file);
Result<SafetensorsFile> OpenSafetensors(const std::string& path);

}  // namespace g3n
