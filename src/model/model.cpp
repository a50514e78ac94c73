#include "model/model.h"

#include <filesystem>
#include <fstream>

#include "model/gguf_model.h"

namespace g3n {

namespace {

bool LooksLikeGguf(const std::string& path) {
  if (std::filesystem::path(path).extension() == ".gguf") return true;  // missing: OpenGguf says so
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  char magic[4] = {};
  std::ifstream in(path, std::ios::binary);
  return in.read(magic, 4) && std::string(magic, 4) == "GGUF";
}

Result<std::unique_ptr<Model>> LoadGgufModel(const std::string& path) {
  auto m = std::make_unique<Model>();
  m->from_gguf = true;
  m->checkpoint.dir = path;
  G3N_ASSIGN_OR_RETURN(m->gguf, OpenGguf(path));
  G3N_ASSIGN_OR_RETURN(m->config, GgufModelConfig(m->gguf));
  G3N_ASSIGN_OR_RETURN(m->weights, BindGgufWeights(m->gguf, m->config.text));
  return m;
}

}  // namespace

Result<std::unique_ptr<Model>> LoadModel(const std::string& dir) {
  if (LooksLikeGguf(dir)) return LoadGgufModel(dir);
  auto m = std::make_unique<Model>();
  G3N_ASSIGN_OR_RETURN(m->checkpoint, OpenCheckpoint(dir));
  const std::string config_path = (std::filesystem::path(dir) / "config.json").string();
  G3N_ASSIGN_OR_RETURN(m->config, ParseModelConfig(m->checkpoint.config_json, m->checkpoint.generation_config_json,
                                                   config_path));
  G3N_ASSIGN_OR_RETURN(m->weights, BindTextWeights(m->checkpoint, m->config.text));
  return m;
}

}  // namespace g3n
