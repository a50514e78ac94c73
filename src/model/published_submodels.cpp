#include "model/published_submodels.h"

#include <algorithm>
#include <cctype>

#include "model/submodel.h"

namespace g3n {
namespace {

constexpr int kUnit = 2048;  // the dataset writes widths as 2_048 * 4 or 2_048 * 8

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// Transcribed from configs.csv; the computed column is checked by tests/matformer_test.cpp.
const std::vector<PublishedSubModel>& Table() {
  static const std::vector<PublishedSubModel> rows = {
      {"E4B", "Main model", 3.98, 3.9805, "62.30%", "88888 88888 88888 88888 88888 88888 88888", false},
      {"E2B", "Config for official E2B Model", 1.91, 1.9055, "50.90%", "44444 44444 44444 44444 44444 44444", true},
      {"E1.96B-layer", "Config for E1.96B (layer-level)", 1.96, 1.9558, "53.40%",
       "44448 44444 44444 44444 44444 44444", true},
      {"E2.54B-layer", "Config for E2.54B (layer-level)", 2.54, 2.5209, "55.40%",
       "44448 44444 44444 44444 88888 44444 44444", false},
      {"E2.69B-layer", "Config for E2.69B (layer-level)", 2.69, 2.6719, "57.70%",
       "44448 44448 44448 44448 88888 44444 44444", false},
      {"E2.98B-layer", "Config for E2.98B (layer-level)", 2.98, 2.9739, "59.50%",
       "44444 44444 44444 88888 88888 44444 88888", false},
      {"E3.18B-layer", "Config for E3.18B (layer-level)", 3.18, 3.1752, "61.80%",
       "44448 44448 88888 88888 88888 44448 44448", false},
      {"E3.39B-layer", "Config for E3.39B (layer-level)", 3.39, 3.3765, "63.00%",
       "44448 44448 88888 88888 88888 88888 44448", false},
      {"E3.59B-layer", "Config for E3.59B (layer-level)", 3.59, 3.5778, "63.40%",
       "44448 88888 88888 88888 88888 88888 44448", false},
      {"E3.79B-layer", "Config for E3.79B (layer-level)", 3.79, 3.7792, "63.40%",
       "44448 88888 88888 88888 88888 88888 88888", false},
      {"E2.49B-block", "Config for E2.49B (block-level)", 2.49, 2.4705, "54.50%",
       "44444 44444 44444 44444 88888 44444 44444", false},
      {"E2.73B-block", "Config for E2.73B (block-level)", 2.73, 2.7222, "57.10%",
       "44444 44444 44444 88888 88888 44444 44444", false},
      {"E2.98B-block", "Config for E2.98B (block-level)", 2.98, 2.9739, "59.50%",
       "44444 44444 88888 88888 88888 44444 44444", false},
      {"E3.24B-block", "Config for E3.24B (block-level)", 3.24, 3.2255, "60.70%",
       "44444 44444 88888 88888 88888 88888 44444", false},
      {"E3.49B-block", "Config for E3.49B (block-level)", 3.49, 3.4772, "61.40%",
       "44444 88888 88888 88888 88888 88888 44444", false},
      {"E3.74B-block", "Config for E3.79B (block-level)", 3.74, 3.7288, "62.00%",
       "44444 88888 88888 88888 88888 88888 88888", false},
  };
  return rows;
}

SubModelSpec ToSpec(const PublishedSubModel& p) {
  SubModelSpec s;
  s.name = p.name;
  s.e4b_units = true;
  if (p.skips_20_24) s.skip_layers = {20, 21, 22, 23, 24};
  for (char ch : p.ffn_pattern)
    if (ch != ' ') s.ffn_widths.push_back((ch - '0') * kUnit);
  return s;
}

std::string AllNames() {
  std::string s;
  for (const auto& p : Table()) s += (s.empty() ? "" : ", ") + p.name;
  return s;
}

// Index of the row `name` denotes, -1 when none, -2 when a bare size matches two rows.
int Lookup(const std::string& name, std::string* candidates) {
  const std::string want = Lower(name);
  const auto& rows = Table();
  for (size_t i = 0; i < rows.size(); ++i)
    if (want == Lower(rows[i].name) || want == Lower(rows[i].dataset_name)) return static_cast<int>(i);
  if (want == "main" || want == "main-model") return 0;
  if (want == "official-e2b") return 1;
  if (want == "e3.79b-block") return static_cast<int>(rows.size()) - 1;  // the dataset's spelling
  if (want == "e3.79b") {  // the dataset uses this size for two rows
    if (candidates) *candidates = "E3.79B-layer, E3.74B-block (listed as E3.79B block-level)";
    return -2;
  }
  int found = -1;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string n = Lower(rows[i].name);
    if (n.size() > want.size() && n.compare(0, want.size(), want) == 0 && n[want.size()] == '-') {
      if (candidates) *candidates += (candidates->empty() ? "" : ", ") + rows[i].name;
      found = found == -1 ? static_cast<int>(i) : -2;
    }
  }
  return found;
}

}  // namespace

const std::vector<PublishedSubModel>& PublishedSubModels() { return Table(); }

std::string CanonicalSubModelName(const std::string& name) {
  const int i = Lookup(name, nullptr);
  return i >= 0 ? Table()[i].name : "";
}

Result<SubModelSpec> FindPublishedSubModel(const std::string& name) {
  std::string candidates;
  const int i = Lookup(name, &candidates);
  if (i == -2)
    return Error("sub-model name '" + name + "' is ambiguous: it matches " + candidates + "; pick one of them");
  if (i < 0)
    return Error("unknown sub-model '" + name + "'; the published configurations are " + AllNames() +
                 " (or give a CSV/JSON spec file)");
  return ToSpec(Table()[i]);
}

}  // namespace g3n
