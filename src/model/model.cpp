#include "model/model.h"

#include <filesystem>

namespace g3n {

Result<std::unique_ptr<Model>> LoadModel(const std::string& dir) {
  auto m = std::make_unique<Model>();
  G3N_ASSIGN_OR_RETURN(m->checkpoint, OpenCheckpoint(dir));
  const std::string config_path = (std::filesystem::path(dir) / "config.json").string();
  G3N_ASSIGN_OR_RETURN(m->config, ParseModelConfig(m->checkpoint.config_json, m->checkpoint.generation_config_json,
                                                   config_path));
  G3N_ASSIGN_OR_RETURN(m->weights, BindTextWeights(m->checkpoint, m->config.text));
  return m;
}

}  // namespace g3n
