// A loaded model: the mapped checkpoint (HF folder or GGUF file), its parsed config and the
// validated weight views.
#pragma once
#include <memory>
#include <string>

#include "io/checkpoint.h"
#include "io/gguf.h"
#include "model/config.h"
#include "model/weights.h"

namespace g3n {

struct Model {
  Checkpoint checkpoint;  // HF folder (empty except `dir` for a GGUF)
  GgufFile gguf;          // GGUF file (empty for an HF folder); keeps the file mapped
  bool from_gguf = false;
  ModelConfig config;
  TextWeights weights;
};

// Opens an HF checkpoint folder, parses config.json / generation_config.json and validates
// every text tensor. Vision and audio tensors are neither touched nor validated here.
// A path ending in .gguf (or any regular file starting with the GGUF magic) is read as a
// llama.cpp gemma3n GGUF instead (model/gguf_model.h).
Result<std::unique_ptr<Model>> LoadModel(const std::string& path);

}  // namespace g3n
