// MatFormer sub-models (spec section 4): E2B and the mix-n-match sizes live inside E4B. A spec
// names the stored layers to skip and the FFN width of each kept layer; applying it gives a new
// (TextConfig, TextWeights) pair that views the stored weights without copying them: kept layers
// use the first f rows of gate/up and the first f columns of down, the PLE slices and projection
// rows of skipped layers are never read, and layer types, sparsity and KV roles are recomputed
// from the kept layers. Several pairs can share one loaded model.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/config.h"
#include "model/model.h"
#include "model/weights.h"
#include "util/status.h"

namespace g3n {

struct SubModelSpec {
  std::string name;
  std::vector<int> skip_layers;  // stored layer indices to drop
  std::vector<int> ffn_widths;   // FFN width of each kept layer, in kept order
  // Widths are E4B widths (16384 = full). Set by FindPublishedSubModel so that the published
  // configurations also run on scaled-down E4B-like models: when every stored layer has the same
  // width W, each width w becomes W * w / 16384 (it must divide exactly); when the stored widths
  // differ from layer to layer they are used as is. Explicit specs (files) give absolute widths.
  bool e4b_units = false;
};

// A spec file: Google's slicing CSV (columns "name", "FFN Hidden Dims", "Layers Skipped" and
// optionally "# Layers"; list cells are Python list literals whose entries may be products such
// as 2_048 * 4) or JSON (.json, or text starting with '{'):
//   {"name": "...", "skip_layers": [20, 21], "ffn_widths": [8192, ...]}
// ("layers_to_skip" / "ffn_hidden_dims", the MatFormer notebook's names, are accepted too).
// A CSV with several rows needs `row`: a row's name or its short name (E2.98B-block, ...).
// Widths from files are absolute.
Result<SubModelSpec> ParseSubModelFile(const std::string& path, const std::string& row = "");
Result<SubModelSpec> ParseSubModelCsv(const std::string& text, const std::string& where, const std::string& row = "");
Result<SubModelSpec> ParseSubModelJson(const std::string& text, const std::string& where);

// What --submodel accepts: an existing file, FILE#ROW for one row of a CSV, or a published name.
Result<SubModelSpec> ResolveSubModel(const std::string& choice);

// The shape of a sub-model of `stored`: kept stored layers, final widths and the new config
// (num_layers, intermediate_size, layer_types, activation_sparsity, num_kv_shared_layers and
// KV roles). Refuses specs that skip a KV producer a kept layer reads, ask for more FFN units
// than stored, or do not give one width per kept layer.
struct SubModelLayout {
  std::vector<int> kept;  // stored index of each kept layer
  TextConfig config;
};
Result<SubModelLayout> PlanSubModel(const TextConfig& stored, const SubModelSpec& spec);

// The sub-model's config and weight views. `weights` must outlive the result. Applying a spec
// to a sub-model composes (its PLE slices map back to the stored table).
Result<std::pair<TextConfig, TextWeights>> ApplySubModel(const TextConfig& config, const TextWeights& weights,
                                                         const SubModelSpec& spec);

// A sub-model of a loaded model, as the CLI and sessions hold it. `model` must outlive it.
struct SubModel {
  SubModelSpec spec;
  std::vector<int> kept_layers;
  TextConfig config;
  TextWeights weights;
};
// `choice` is the value of --submodel (ResolveSubModel).
Result<SubModel> ApplySubModelFromArgs(const Model& model, const std::string& choice);

// Text parameter counts from the config alone. "Effective" excludes both embedding tables
// (spec 5; the MatFormer notebook's num_parameters(exclude_embeddings=True)); it includes the
// K/V projections of KV-consumer layers, which the checkpoints carry.
struct TextParamCounts {
  int64_t effective = 0;
  int64_t embed = 0;  // embed_tokens (also the LM head)
  int64_t ple = 0;    // embed_tokens_per_layer
  int64_t total() const { return effective + embed + ple; }
};
TextParamCounts CountTextParams(const TextConfig& c);

}  // namespace g3n
