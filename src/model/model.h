// A loaded model: the mapped checkpoint, its parsed config and the validated weight views.
#pragma once
#include <memory>
#include <string>

#include "io/checkpoint.h"
#include "model/config.h"
#include "model/weights.h"

namespace g3n {

struct Model {
  Checkpoint checkpoint;
  ModelConfig config;
  TextWeights weights;
};

// Opens an HF checkpoint folder, parses config.json / generation_config.json and validates
// every text tensor. Vision and audio tensors are neither touched nor validated here.
Result<std::unique_ptr<Model>> LoadModel(const std::string& dir);

}  // namespace g3n
