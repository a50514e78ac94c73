#include "model/submodel.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "model/published_submodels.h"

namespace g3n {
namespace {

// Whether `p` lies in one of the model's file mappings (weights converted at load live on the
// heap, where dropping pages would lose them).
bool IsMapped(const Model& m, const uint8_t* p) {
  if (m.gguf.file && m.gguf.file->Contains(p)) return true;
  for (const SafetensorsFile& f : m.checkpoint.files)
    if (f.file && f.file->Contains(p)) return true;
  return false;
}


using json = nlohmann::json;

constexpr int64_t kE4BWidth = 16384;

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Label(const SubModelSpec& s) { return "sub-model '" + (s.name.empty() ? "(unnamed)" : s.name) + "'"; }

// "20-23, 25-28" for a sorted list of layer indices.
std::string Ranges(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!s.empty()) s.append(", ");
    s.append(std::to_string(v[i]));
    if (j > i) s.append("-").append(std::to_string(v[j]));
    i = j + 1;
  }
  return s;
}

// ---- CSV / JSON spec files ----------------------------------------------------------------

// One integer term of a list cell: digits with Python's '_' separators, or a product a * b.
Result<int> ParseProduct(const std::string& item, const std::string& where) {
  int64_t value = 1;
  size_t i = 0;
  bool any = false;
  while (i <= item.size()) {
    const size_t star = std::min(item.find('*', i), item.size());
    const std::string term = Trim(item.substr(i, star - i));
    int64_t t = 0;
    bool digit_before = false;
    for (char ch : term) {
      if (ch == '_' && digit_before) continue;
      if (!std::isdigit(static_cast<unsigned char>(ch))) return Error(where + ": '" + item + "' is not an integer");
      t = t * 10 + (ch - '0');
      digit_before = true;
      if (t > std::numeric_limits<int>::max()) return Error(where + ": '" + item + "' is too large");
    }
    if (term.empty() || term.back() == '_') return Error(where + ": '" + item + "' is not an integer");
    value *= t;
    if (value > std::numeric_limits<int>::max()) return Error(where + ": '" + item + "' is too large");
    any = true;
    i = star + 1;
  }
  if (!any) return Error(where + ": empty list entry");
  return static_cast<int>(value);
}

// A Python list literal cell such as "[2_048 * 4, 2_048 * 8]"; empty, NaN or [] is no list.
Result<std::vector<int>> ParseIntList(const std::string& cell, const std::string& where) {
  const std::string s = Trim(cell);
  std::vector<int> out;
  if (s.empty() || Lower(s) == "nan" || Lower(s) == "none") return out;
  if (s.front() != '[' || s.back() != ']') return Error(where + ": expected a list like [1, 2], not '" + s + "'");
  const std::string body = Trim(s.substr(1, s.size() - 2));
  if (body.empty()) return out;
  size_t i = 0;
  while (i <= body.size()) {
    size_t comma = std::min(body.find(',', i), body.size());
    const std::string item = Trim(body.substr(i, comma - i));
    if (!(item.empty() && comma == body.size() && !out.empty())) {  // a trailing comma is fine
      G3N_ASSIGN_OR_RETURN(int v, ParseProduct(item, where));
      out.push_back(v);
    }
    i = comma + 1;
  }
  return out;
}

// RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines. Blank lines are
// skipped.
Result<std::vector<std::vector<std::string>>> SplitCsv(const std::string& text, const std::string& where) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  auto end_record = [&] {
    if (any) {
      row.push_back(field);
      rows.push_back(row);
    }
    row.clear();
    field.clear();
    any = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"') {
      quoted = any = true;
    } else if (ch == ',') {
      row.push_back(field);
      field.clear();
      any = true;
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
    } else {
      field += ch;
      any = true;
    }
  }
  if (quoted) return Error(where + ": unterminated quoted field");
  end_record();
  return rows;
}

bool RowMatches(const std::string& row_name, const std::string& want) {
  if (Lower(Trim(row_name)) == Lower(Trim(want))) return true;
  const std::string a = CanonicalSubModelName(Trim(row_name)), b = CanonicalSubModelName(Trim(want));
  return !a.empty() && a == b;
}

Result<std::vector<int>> JsonIntList(const json& j, const char* key, const std::string& where) {
  const json& v = j[key];
  if (!v.is_array()) return Error(where + ": '" + key + "' must be a list of integers");
  std::vector<int> out;
  for (const auto& e : v) {
    if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() > std::numeric_limits<int>::max())
      return Error(where + ": '" + key + "' must hold non-negative integers, not " + e.dump());
    out.push_back(e.get<int>());
  }
  return out;
}

int64_t LayerParams(const TextConfig& c, int64_t F) {
  const int64_t H = c.hidden_size, P = c.per_layer_dim, A = c.altup_num_inputs;
  const int64_t q = static_cast<int64_t>(c.num_heads) * c.head_dim;
  const int64_t kv = static_cast<int64_t>(c.num_kv_heads) * c.head_dim;
  return 2 * q * H + 2 * kv * H          // q, o; k, v
         + 3 * F * H                      // gate, up, down
         + 7 * H + 2 * c.head_dim         // seven [H] norms; q_norm, k_norm
         + H + A * A + A * A * A + A * H  // AltUp correct scale, coefficients, router
         + 2 * static_cast<int64_t>(c.laurel_rank) * H + 2 * P * H;  // LAuReL; per-layer gate, proj
}

}  // namespace

Result<SubModelSpec> ParseSubModelJson(const std::string& text, const std::string& where) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(where + ": not a valid JSON object");
  SubModelSpec s;
  const char* skip_key = j.contains("skip_layers") ? "skip_layers" : "layers_to_skip";
  const char* width_key = j.contains("ffn_widths") ? "ffn_widths" : "ffn_hidden_dims";
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k != "name" && k != "description" && k != skip_key && k != width_key)
      return Error(where + ": unknown key '" + k + "' (a spec has name, skip_layers and ffn_widths)");
  }
  if (j.contains("name")) {
    if (!j["name"].is_string()) return Error(where + ": 'name' must be a string");
    s.name = j["name"].get<std::string>();
  } else {
    s.name = std::filesystem::path(where).stem().string();
  }
  if (j.contains(skip_key) && !j[skip_key].is_null()) {
    G3N_ASSIGN_OR_RETURN(s.skip_layers, JsonIntList(j, skip_key, where));
  }
  if (!j.contains(width_key)) return Error(where + ": missing 'ffn_widths' (the FFN width of every kept layer)");
  G3N_ASSIGN_OR_RETURN(s.ffn_widths, JsonIntList(j, width_key, where));
  return s;
}

Result<SubModelSpec> ParseSubModelCsv(const std::string& text, const std::string& where, const std::string& row) {
  G3N_ASSIGN_OR_RETURN(auto rows, SplitCsv(text, where));
  if (rows.empty()) return Error(where + ": empty CSV file");
  int name_col = -1, ffn_col = -1, skip_col = -1, layers_col = -1;
  for (size_t i = 0; i < rows[0].size(); ++i) {
    const std::string h = Lower(Trim(rows[0][i]));
    if (h == "name") name_col = static_cast<int>(i);
    if (h == "ffn hidden dims") ffn_col = static_cast<int>(i);
    if (h == "layers skipped") skip_col = static_cast<int>(i);
    if (h == "# layers") layers_col = static_cast<int>(i);
  }
  if (name_col < 0 || ffn_col < 0)
    return Error(where + ": the header needs the columns 'name' and 'FFN Hidden Dims' (Google's slicing-configs "
                 "format: name,# Layers,# Effective Params (B),MMLU PT accuracy,FFN Hidden Dims,Layers Skipped)");
  std::vector<size_t> picks;
  std::string names;
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::string n = static_cast<size_t>(name_col) < rows[r].size() ? Trim(rows[r][name_col]) : "";
    names += (names.empty() ? "'" : ", '") + n + "'";
    if (row.empty() || RowMatches(n, row)) picks.push_back(r);
  }
  if (rows.size() == 1) return Error(where + ": the CSV has a header but no configuration rows");
  if (picks.empty()) return Error(where + ": no row named '" + row + "'; the rows are " + names);
  if (picks.size() > 1)
    return Error(where + ": " + std::to_string(picks.size()) + " rows" + (row.empty() ? "" : " match '" + row + "'") +
                 "; pick one with FILE#NAME (rows: " + names + ")");
  const std::vector<std::string>& cells = rows[picks[0]];
  auto cell = [&](int col) { return col >= 0 && static_cast<size_t>(col) < cells.size() ? cells[col] : std::string(); };
  SubModelSpec s;
  s.name = Trim(cell(name_col));
  const std::string short_name = CanonicalSubModelName(s.name);
  if (!short_name.empty()) s.name = short_name;
  const std::string at = where + " (row '" + Trim(cell(name_col)) + "')";
  G3N_ASSIGN_OR_RETURN(s.ffn_widths, ParseIntList(cell(ffn_col), at + " FFN Hidden Dims"));
  if (s.ffn_widths.empty()) return Error(at + ": 'FFN Hidden Dims' is empty");
  G3N_ASSIGN_OR_RETURN(s.skip_layers, ParseIntList(cell(skip_col), at + " Layers Skipped"));
  const std::string layers = Trim(cell(layers_col));
  if (!layers.empty()) {
    G3N_ASSIGN_OR_RETURN(int n, ParseProduct(layers, at + " # Layers"));
    if (n != static_cast<int>(s.ffn_widths.size()))
      return Error(at + ": '# Layers' says " + std::to_string(n) + " but 'FFN Hidden Dims' has " +
                   std::to_string(s.ffn_widths.size()) + " entries");
  }
  return s;
}

Result<SubModelSpec> ParseSubModelFile(const std::string& path, const std::string& row) {
  G3N_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  const std::string first = Trim(text.substr(0, std::min<size_t>(text.size(), 64)));
  const bool is_json = std::filesystem::path(path).extension() == ".json" || (!first.empty() && first[0] == '{');
  if (is_json) {
    if (!row.empty()) return Error(path + ": '#" + row + "' selects a CSV row, but this is a JSON spec");
    return ParseSubModelJson(text, path);
  }
  return ParseSubModelCsv(text, path, row);
}

Result<SubModelSpec> ResolveSubModel(const std::string& choice) {
  if (choice.empty()) return Error("--submodel needs a published name (E2B, E2.98B-block, ...) or a spec file");
  std::error_code ec;
  if (std::filesystem::is_regular_file(choice, ec)) return ParseSubModelFile(choice);
  const size_t hash = choice.rfind('#');
  if (hash != std::string::npos && std::filesystem::is_regular_file(choice.substr(0, hash), ec))
    return ParseSubModelFile(choice.substr(0, hash), choice.substr(hash + 1));
  auto published = FindPublishedSubModel(choice);
  if (!published.ok() && (choice.find('/') != std::string::npos || choice.find(".csv") != std::string::npos ||
                          choice.find(".json") != std::string::npos))
    return Error(choice + ": no such spec file (and not a published sub-model name)");
  return published;
}

Result<SubModelLayout> PlanSubModel(const TextConfig& c, const SubModelSpec& spec) {
  const std::string who = Label(spec);
  const int L = c.num_layers;
  if (spec.e4b_units && static_cast<int>(spec.ffn_widths.size() + spec.skip_layers.size()) != L)
    return Error(who + ": the published configurations are defined on E4B's " +
                 std::to_string(spec.ffn_widths.size() + spec.skip_layers.size()) + " layers; this model has " +
                 std::to_string(L));
  std::vector<bool> skip(L, false);
  for (int s : spec.skip_layers) {
    if (s < 0 || s >= L)
      return Error(who + ": cannot skip layer " + std::to_string(s) + "; the model has " + std::to_string(L) +
                   " layers (0-" + std::to_string(L - 1) + ")");
    if (skip[s]) return Error(who + ": layer " + std::to_string(s) + " is listed twice in skip_layers");
    skip[s] = true;
  }
  SubModelLayout out;
  for (int l = 0; l < L; ++l)
    if (!skip[l]) out.kept.push_back(l);
  const int kept = static_cast<int>(out.kept.size());
  if (kept == 0) return Error(who + ": skips every layer");
  // A kept layer must keep reading the KV cache it reads in the full model.
  for (int p = 0; p < L; ++p) {
    if (!skip[p]) continue;
    std::vector<int> readers;
    for (int l = 0; l < L; ++l)
      if (!skip[l] && l != p && c.kv_source[l] == p) readers.push_back(l);
    if (!readers.empty())
      return Error(who + ": cannot skip layer " + std::to_string(p) + ": it computes the KV cache that kept layer" +
                   (readers.size() > 1 ? "s " : " ") + Ranges(readers) + " read (KV producers must be kept)");
  }
  if (static_cast<int>(spec.ffn_widths.size()) != kept)
    return Error(who + ": gives " + std::to_string(spec.ffn_widths.size()) + " FFN widths for " +
                 std::to_string(kept) + " kept layers (" + std::to_string(L) + " stored - " +
                 std::to_string(spec.skip_layers.size()) + " skipped); it needs one width per kept layer");
  // Published (E4B-unit) widths scale with a uniformly-wide stored model; see submodel.h.
  int64_t uniform = c.intermediate_size.empty() ? 0 : c.intermediate_size[0];
  for (int f : c.intermediate_size)
    if (f != uniform) uniform = 0;
  const bool scale = spec.e4b_units && uniform > 0 && uniform != kE4BWidth;
  TextConfig& n = out.config;
  n = c;
  n.num_layers = kept;
  n.intermediate_size.clear();
  n.layer_types.clear();
  n.activation_sparsity.clear();
  int skipped_consumers = 0;
  for (int l = 0; l < L; ++l)
    if (skip[l] && l >= c.first_kv_shared) ++skipped_consumers;
  for (int j = 0; j < kept; ++j) {
    const int s = out.kept[j];
    const int64_t stored = c.intermediate_size[s];
    int64_t f = spec.ffn_widths[j];
    if (scale) {
      if (f * uniform % kE4BWidth != 0)
        return Error(who + ": width " + std::to_string(f) + " of kept layer " + std::to_string(j) +
                     " does not scale to this model's FFN width " + std::to_string(uniform) + " (as a fraction of " +
                     std::to_string(kE4BWidth) + ")");
      f = f * uniform / kE4BWidth;
    }
    if (f <= 0) return Error(who + ": kept layer " + std::to_string(j) + " has FFN width 0");
    if (f > stored)
      return Error(who + ": kept layer " + std::to_string(j) + " (stored layer " + std::to_string(s) + ") asks for " +
                   std::to_string(f) + " FFN units but only " + std::to_string(stored) + " are stored");
    n.intermediate_size.push_back(static_cast<int>(f));
    n.layer_types.push_back(c.layer_types[s]);
    n.activation_sparsity.push_back(c.activation_sparsity[s]);
  }
  n.num_kv_shared_layers = c.num_kv_shared_layers - skipped_consumers;
  G3N_RETURN_IF_ERROR(DeriveKvRoles(n, who));
  for (int j = 0; j < kept; ++j) {  // holds by construction; a cheap guard against rule changes
    const int want = c.kv_source[out.kept[j]];
    const int got = out.kept[n.kv_source[j]];
    if (want != got)
      return Error(who + ": kept layer " + std::to_string(j) + " (stored " + std::to_string(out.kept[j]) +
                   ") would read layer " + std::to_string(got) + "'s KV cache instead of layer " +
                   std::to_string(want) + "'s");
  }
  return out;
}

Result<std::pair<TextConfig, TextWeights>> ApplySubModel(const TextConfig& config, const TextWeights& weights,
                                                         const SubModelSpec& spec) {
  G3N_ASSIGN_OR_RETURN(SubModelLayout lay, PlanSubModel(config, spec));
  const std::string who = Label(spec);
  if (static_cast<int>(weights.layers.size()) != config.num_layers)
    return Error(who + ": the weights hold " + std::to_string(weights.layers.size()) + " layers, the config " +
                 std::to_string(config.num_layers));
  TextWeights w;
  w.embed = weights.embed;
  w.ple = weights.ple;
  w.ple_file = weights.ple_file;
  w.ple_projection = weights.ple_projection;
  w.ple_projection_norm = weights.ple_projection_norm;
  w.altup_proj = weights.altup_proj;
  w.altup_unembed = weights.altup_unembed;
  w.final_norm = weights.final_norm;
  // PLE slices index the stored table; a sub-model of a sub-model maps through its parent's.
  bool identity = static_cast<int>(lay.kept.size()) == config.num_layers && weights.ple_slices.empty();
  if (!identity) {
    for (int s : lay.kept) w.ple_slices.push_back(weights.ple_slices.empty() ? s : weights.ple_slices[s]);
    if (config.per_layer_dim % BlockElems(weights.ple.dtype) != 0)
      return Error(who + ": the PLE table's " + DTypeName(weights.ple.dtype) + " blocks straddle the " +
                   std::to_string(config.per_layer_dim) +
                   "-wide per-layer slices, so skipped slices cannot be left out");
  }
  for (size_t j = 0; j < lay.kept.size(); ++j) {
    LayerWeights lw = weights.layers[lay.kept[j]];
    const int64_t f = lay.config.intermediate_size[j];
    if (f % BlockElems(lw.down.dtype) != 0)
      return Error(who + ": kept layer " + std::to_string(j) + "'s FFN width " + std::to_string(f) +
                   " is not a multiple of the " + std::to_string(BlockElems(lw.down.dtype)) + "-element " +
                   DTypeName(lw.down.dtype) + " blocks of its down projection");
    lw.gate = lw.gate.FirstRows(f);
    lw.up = lw.up.FirstRows(f);
    lw.down = lw.down.FirstCols(f);
    w.layers.push_back(std::move(lw));
  }
  return std::make_pair(std::move(lay.config), std::move(w));
}

Result<SubModel> ApplySubModelFromArgs(const Model& model, const std::string& choice) {
  SubModel sm;
  G3N_ASSIGN_OR_RETURN(sm.spec, ResolveSubModel(choice));
  G3N_ASSIGN_OR_RETURN(SubModelLayout lay, PlanSubModel(model.config.text, sm.spec));
  sm.kept_layers = std::move(lay.kept);
  G3N_ASSIGN_OR_RETURN(auto applied, ApplySubModel(model.config.text, model.weights, sm.spec));
  sm.config = std::move(applied.first);
  sm.weights = std::move(applied.second);
  // Narrowed down projections read a prefix of every row; keep the rest of each row unmapped.
  for (size_t j = 0; j < sm.kept_layers.size(); ++j) {
    const WeightMatrix& down = sm.weights.layers[j].down;
    const WeightMatrix& stored = model.weights.layers[sm.kept_layers[j]].down;
    if (down.cols < stored.cols && IsMapped(model, down.data))
      MapRowPrefixesOnly(down.data, down.rows, down.row_stride, RowBytes(down.dtype, down.cols));
  }
  return sm;
}

TextParamCounts CountTextParams(const TextConfig& c) {
  TextParamCounts n;
  const int64_t H = c.hidden_size, P = c.per_layer_dim, A = c.altup_num_inputs, L = c.num_layers;
  for (int l = 0; l < c.num_layers; ++l) n.effective += LayerParams(c, c.intermediate_size[l]);
  n.effective += L * P * H + P + 2 * (A - 1) * H * H + H;  // PLE projection + norm, AltUp (un)embed, final norm
  n.embed = static_cast<int64_t>(c.vocab_size) * H;
  n.ple = static_cast<int64_t>(c.vocab_size_per_layer_input) * L * P;
  return n;
}

}  // namespace g3n
