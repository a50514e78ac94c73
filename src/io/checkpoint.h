// A Hugging Face checkpoint folder: config.json, optional generation_config.json, and either
// one model.safetensors or shards listed in model.safetensors.index.json. Files are mapped,
// never copied; tensors are looked up by their checkpoint names.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "util/status.h"

namespace g3n {

struct Checkpoint {
  std::string dir;
  std::string config_json;             // contents of config.json
  std::string generation_config_json;  // empty if the file is absent
  std::vector<SafetensorsFile> files;
  std::map<std::string, TensorView> tensors;

  const TensorView* Find(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
  size_t total_bytes() const;
};

Result<Checkpoint> OpenCheckpoint(const std::string& dir);

// A float weight (BF16, F16 or F32) of exactly `shape`; `shape_source` names where the expected
// shape comes from ("config.json", "audio_config", ...) in the message.
Status CheckFloatTensor(const TensorView& t, const std::string& name, const std::vector<int64_t>& shape,
                        const std::string& shape_source);

}  // namespace g3n
