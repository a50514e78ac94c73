#include "io/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <map>
#include <set>

namespace g3n {
namespace fs = std::filesystem;

size_t Checkpoint::total_bytes() const {
  size_t n = 0;
  for (const auto& f : files) n += f.file->size();
  return n;
}

namespace {

Status AddFile(Checkpoint& ck, const std::string& path) {
  G3N_ASSIGN_OR_RETURN(SafetensorsFile f, OpenSafetensors(path));
  for (const auto& [name, t] : f.tensors) {
    if (ck.tensors.count(name)) return Error(path + ": tensor '" + name + "' also appears in " + ck.tensors[name].file);
    ck.tensors.emplace(name, t);
  }
  ck.files.push_back(std::move(f));
  return Status();
}

}  // namespace

Result<Checkpoint> OpenCheckpoint(const std::string& dir) {
  Checkpoint ck;
  ck.dir = dir;
  if (!fs::is_directory(dir)) return Error(dir + ": not a directory (expected a Hugging Face checkpoint folder)");
  const std::string config_path = (fs::path(dir) / "config.json").string();
  if (!fs::exists(config_path)) return Error(config_path + ": missing (every checkpoint folder needs config.json)");
  G3N_ASSIGN_OR_RETURN(ck.config_json, ReadTextFile(config_path));
  const std::string gen_path = (fs::path(dir) / "generation_config.json").string();
  if (fs::exists(gen_path)) {
    G3N_ASSIGN_OR_RETURN(ck.generation_config_json, ReadTextFile(gen_path));
  }

  const std::string index_path = (fs::path(dir) / "model.safetensors.index.json").string();
  if (fs::exists(index_path)) {
    G3N_ASSIGN_OR_RETURN(std::string text, ReadTextFile(index_path));
    nlohmann::json idx = nlohmann::json::parse(text, nullptr, false);
    if (idx.is_discarded() || !idx.is_object() || !idx.contains("weight_map") || !idx["weight_map"].is_object())
      return Error(index_path + ": not a valid index (needs a \"weight_map\" object)");
    std::map<std::string, std::string> shard_names;  // shard -> first tensor listed in it
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      if (!it.value().is_string()) return Error(index_path + ": weight_map entry '" + it.key() + "' is not a file name");
      const std::string shard = it.value().get<std::string>();
      if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
        return Error(index_path + ": shard name '" + shard + "' must be a plain file name");
      shard_names.emplace(shard, it.key());
    }
    for (const auto& [s, first] : shard_names) {
      const fs::path p = fs::path(dir) / s;
      if (!fs::exists(p))
        return Error(index_path + ": shard '" + s + "' (listed for tensor '" + first + "' and maybe others) does not exist in " + dir);
    }
    for (const auto& [s, first] : shard_names) G3N_RETURN_IF_ERROR(AddFile(ck, (fs::path(dir) / s).string()));
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      const TensorView* t = ck.Find(it.key());
      const std::string shard = (fs::path(dir) / it.value().get<std::string>()).string();
      if (t == nullptr)
        return Error(index_path + ": tensor '" + it.key() + "' is listed in " + shard + " but is not there");
      if (t->file != shard)
        return Error(index_path + ": tensor '" + it.key() + "' is listed in " + shard + " but is in " + t->file);
    }
  } else {
    // One-file checkpoints are model.safetensors; other *.safetensors files beside it (adapters,
    // reference dumps) are not part of the model.
    std::vector<std::string> paths;
    const fs::path single = fs::path(dir) / "model.safetensors";
    if (fs::exists(single)) {
      paths.push_back(single.string());
    } else {
      for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".safetensors") paths.push_back(e.path().string());
    }
    if (paths.empty()) return Error(dir + ": no model.safetensors, no *.safetensors files and no model.safetensors.index.json");
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) G3N_RETURN_IF_ERROR(AddFile(ck, p));
  }
  return ck;
}

Status CheckFloatTensor(const TensorView& t, const std::string& name, const std::vector<int64_t>& shape,
                        const std::string& shape_source) {
  if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16)
    return Error(t.file + ": tensor '" + name + "' has dtype " + DTypeName(t.dtype) + "; expected BF16, F16 or F32");
  if (t.shape != shape)
    return Error(t.file + ": tensor '" + name + "' has shape " + ShapeString(t.shape) + ", expected " +
                 ShapeString(shape) + " from " + shape_source);
  return Status();
}

}  // namespace g3n
