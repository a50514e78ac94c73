// Google's published MatFormer "mix-n-match" configurations of Gemma 3n E4B (the
// google/gemma3n-slicing-configs dataset, configs.csv; spec section 4): which layers to skip and
// the FFN width of every kept layer, as fractions of E4B's 16384.
//
// Naming. Every row has a canonical short name, matched case-insensitively:
//   E4B            "Main model" (35 layers, all 16384)
//   E2B            "Config for official E2B Model" (layers 20-24 skipped, all 8192)
//   E<x>B-layer    "Config for E<x>B (layer-level)", e.g. E2.98B-layer
//   E<x>B-block    "Config for E<x>B (block-level)", e.g. E2.98B-block
// The dataset's own row names are accepted too, and so is a bare "E<x>B" when only one row has
// that size. E2.98B and E3.79B exist at both levels, so the bare form is refused for them. The
// dataset calls its last block-level row "E3.79B" although it lists 3.74B effective parameters
// (our count: 3.7288B); its canonical name here is E3.74B-block, with E3.79B-block as an alias.
#pragma once
#include <string>
#include <vector>

#include "util/status.h"

namespace g3n {

struct SubModelSpec;

struct PublishedSubModel {
  std::string name;          // canonical short name, e.g. "E2.98B-block"
  std::string dataset_name;  // the row's name in configs.csv
  double listed_params_b;    // "# Effective Params (B)" as published
  double computed_params_b;  // non-embedding text parameters of the slice (spec 4, "computed")
  std::string mmlu_pt;       // "MMLU PT accuracy" as published
  std::string ffn_pattern;   // one digit per kept layer, blocks of 5: '4' = 8192, '8' = 16384
  bool skips_20_24;          // the only skip set that occurs: one whole block after the KV producers
};

// All 16 rows, in the dataset's order.
const std::vector<PublishedSubModel>& PublishedSubModels();

// The row called `name` (see the naming rules above) as a spec with E4B widths (8192 / 16384)
// and e4b_units set. Unknown or ambiguous names are errors that list the valid names.
Result<SubModelSpec> FindPublishedSubModel(const std::string& name);

// The canonical name of the published row that matches a dataset row name or short name;
// empty when none does.
std::string CanonicalSubModelName(const std::string& name);

}  // namespace g3n
