// gemma3n slice: write a MatFormer sub-model of an E4B checkpoint as a standalone checkpoint in
// the real Hugging Face layout, the way Google's MatFormer Lab notebook does (spec section 4):
//   config.json              the source's, nested form kept; the text config gets the new
//                            num_hidden_layers, intermediate_size, layer_types,
//                            num_kv_shared_layers and activation_sparsity_pattern
//   generation_config.json, tokenizer and processor files: copied
//   model.safetensors, or model-0000K-of-0000N.safetensors + model.safetensors.index.json when
//                            the output exceeds --shard-gb: skipped layers dropped and the rest
//                            renumbered, gate/up cut to their first f rows and down to its first
//                            f columns, the PLE table and per_layer_model_projection cut to the
//                            kept layers' slices, every other tensor (vision, audio too) copied;
//                            dtypes preserved
// Tensors stream from the mapped source straight to the output files; source pages already
// copied are dropped every 64 MB, so memory stays flat whatever the model size. With --out FILE.gguf the HF slice is
// written to a temporary folder next to FILE and converted (model/gguf_convert.h, --type MIX,
// default: the source's float type).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/common.h"
#include "model/gguf_convert.h"
#include "model/submodel.h"

namespace g3n::cli {

int SliceCommand(const Args& args);

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

// One output tensor: which bytes of its source it takes. The source is viewed as `src_rows`
// rows of `row_bytes`; the output is, for each row range in `rows`, each byte range in `cols`.
struct TensorPlan {
  std::string name;
  const TensorView* src = nullptr;
  std::vector<int64_t> shape;
  size_t row_bytes = 0;
  std::vector<std::pair<int64_t, int64_t>> rows;
  std::vector<std::pair<size_t, size_t>> cols;
  size_t nbytes = 0;
};

class ProgressBar {
 public:
  explicit ProgressBar(const char* what) : what_(what) {}
  void Update(uint64_t done, uint64_t total, const std::string& name) {
    const auto now = std::chrono::steady_clock::now();
    if (done != total && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    const int width = 30, fill = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(width), ' ');
    for (int i = 0; i < fill; ++i) bar[i] = '=';
    if (fill < width) bar[fill] = '>';
    const double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r%s [%s] %3d%% %.2f/%.2f GiB %.0fs %-40.40s", what_, bar.c_str(),
                 static_cast<int>(frac * 100.0), done / 1073741824.0, total / 1073741824.0, secs, name.c_str());
    if (done == total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  const char* what_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

// "model.language_model." in multimodal checkpoints, "model." in text-only ones.
std::string TextPrefix(const Checkpoint& ck) {
  if (ck.Find("model.language_model.embed_tokens.weight") == nullptr && ck.Find("model.embed_tokens.weight") != nullptr)
    return "model.";
  return "model.language_model.";
}

TensorPlan WholeTensor(const std::string& name, const TensorView& t) {
  TensorPlan p;
  p.name = name;
  p.src = &t;
  p.shape = t.shape;
  // Row by row (when it has rows), so the writer can release the source as it goes.
  const int64_t rows = t.shape.size() >= 2 && t.shape[0] > 0 ? t.shape[0] : 1;
  p.row_bytes = t.nbytes / static_cast<size_t>(rows);
  p.rows = {{0, rows}};
  p.cols = {{0, p.row_bytes}};
  p.nbytes = t.nbytes;
  return p;
}

// Sets rows/cols of a 2-D tensor and the resulting shape and size.
void Cut(TensorPlan& p, std::vector<std::pair<int64_t, int64_t>> rows, std::vector<std::pair<int64_t, int64_t>> cols) {
  const size_t es = DTypeSize(p.src->dtype);
  p.row_bytes = static_cast<size_t>(p.src->shape[1]) * es;
  p.rows = std::move(rows);
  p.cols.clear();
  int64_t n_rows = 0, n_cols = 0;
  for (auto [b, e] : p.rows) n_rows += e - b;
  for (auto [b, e] : cols) {
    p.cols.emplace_back(static_cast<size_t>(b) * es, static_cast<size_t>(e) * es);
    n_cols += e - b;
  }
  p.shape = {n_rows, n_cols};
  p.nbytes = static_cast<size_t>(n_rows * n_cols) * es;
}

// Consecutive slices merged into runs of [begin, end) in units of `width`.
std::vector<std::pair<int64_t, int64_t>> SliceRuns(const std::vector<int>& kept, int64_t width) {
  std::vector<std::pair<int64_t, int64_t>> runs;
  for (int s : kept) {
    if (!runs.empty() && runs.back().second == s * width) runs.back().second += width;
    else runs.emplace_back(s * width, (s + 1) * width);
  }
  return runs;
}

Result<std::vector<TensorPlan>> PlanTensors(const Model& m, const SubModelLayout& lay) {
  const Checkpoint& ck = m.checkpoint;
  const TextConfig& c = m.config.text;
  const std::string prefix = TextPrefix(ck);
  const std::string layers = prefix + "layers.";
  std::vector<int> new_index(c.num_layers, -1);
  for (size_t j = 0; j < lay.kept.size(); ++j) new_index[lay.kept[j]] = static_cast<int>(j);
  const int64_t P = c.per_layer_dim;
  std::vector<TensorPlan> plans;
  for (const auto& [name, t] : ck.tensors) {
    if (name.compare(0, layers.size(), layers) == 0) {
      const size_t dot = name.find('.', layers.size());
      const std::string num = name.substr(layers.size(), dot == std::string::npos ? 0 : dot - layers.size());
      if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos || num.size() > 6)
        return Error(t.file + ": cannot read the layer index of tensor '" + name + "'");
      const int l = std::stoi(num);
      if (l >= c.num_layers) return Error(t.file + ": tensor '" + name + "' belongs to no layer of config.json");
      if (new_index[l] < 0) continue;  // a skipped layer
      const int j = new_index[l];
      const std::string rest = name.substr(dot);
      TensorPlan p = WholeTensor(layers + std::to_string(j) + rest, t);
      const int64_t f = lay.config.intermediate_size[j];
      if (rest == ".mlp.gate_proj.weight" || rest == ".mlp.up_proj.weight") Cut(p, {{0, f}}, {{0, t.shape[1]}});
      if (rest == ".mlp.down_proj.weight") Cut(p, {{0, t.shape[0]}}, {{0, f}});
      plans.push_back(std::move(p));
      continue;
    }
    TensorPlan p = WholeTensor(name, t);
    if (name == prefix + "embed_tokens_per_layer.weight") Cut(p, {{0, t.shape[0]}}, SliceRuns(lay.kept, P));
    if (name == prefix + "per_layer_model_projection.weight") Cut(p, SliceRuns(lay.kept, P), {{0, t.shape[1]}});
    plans.push_back(std::move(p));
  }
  return plans;
}

// The source's config.json with the text config rewritten for the sub-model (key order kept).
Result<std::string> SlicedConfigJson(const Model& m, const SubModelLayout& lay) {
  const std::string where = m.config.source;
  ojson top = ojson::parse(m.checkpoint.config_json, nullptr, false);
  if (top.is_discarded() || !top.is_object()) return Error(where + ": not a valid JSON object");
  ojson& t = top.contains("text_config") ? top["text_config"] : top;
  const TextConfig& n = lay.config;
  const int L = m.config.text.num_layers;
  t["num_hidden_layers"] = n.num_layers;
  t["intermediate_size"] = n.intermediate_size;
  t["num_kv_shared_layers"] = n.num_kv_shared_layers;
  // Keep the source's spelling of per-layer values; write them out only where it had defaults.
  auto filtered = [&](const char* key) -> std::optional<ojson> {
    if (!t.contains(key) || !t[key].is_array() || static_cast<int>(t[key].size()) != L) return std::nullopt;
    ojson out = ojson::array();
    for (int s : lay.kept) out.push_back(t[key][s]);
    return out;
  };
  if (auto lt = filtered("layer_types")) {
    t["layer_types"] = *lt;
  } else {
    ojson out = ojson::array();
    for (LayerType x : n.layer_types) out.push_back(x == LayerType::Full ? "full_attention" : "sliding_attention");
    t["layer_types"] = out;
  }
  if (auto sp = filtered("activation_sparsity_pattern")) {
    t["activation_sparsity_pattern"] = *sp;
  } else if (!(t.contains("activation_sparsity_pattern") && t["activation_sparsity_pattern"].is_number())) {
    ojson out = ojson::array();
    for (float s : n.activation_sparsity) out.push_back(std::round(static_cast<double>(s) * 1e6) / 1e6);
    t["activation_sparsity_pattern"] = out;
  }
  return top.dump(2) + "\n";
}

Status WriteText(const fs::path& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Error(path.string() + ": cannot open for writing");
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return Error(path.string() + ": write failed");
  return Status();
}

// Unmaps the source pages in [b, e) that were already copied: they are clean file pages, so
// this only keeps them from piling up in our resident set (the PLE table alone is 4.7 GB).
void DropPages(const uint8_t* b, const uint8_t* e) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(b) + page - 1) / page * page;
  const uintptr_t hi = reinterpret_cast<uintptr_t>(e) / page * page;
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

// One safetensors file: header (tensor order = data order, padded to 8 bytes), then the data.
Status WriteShard(const fs::path& path, const std::vector<const TensorPlan*>& tensors, ProgressBar& bar,
                  uint64_t& done, uint64_t total) {
  ojson header = ojson::object();
  header["__metadata__"] = {{"format", "pt"}};
  size_t offset = 0;
  for (const TensorPlan* p : tensors) {
    header[p->name] = {{"dtype", DTypeName(p->src->dtype)},
                       {"shape", p->shape},
                       {"data_offsets", {offset, offset + p->nbytes}}};
    offset += p->nbytes;
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');
  const fs::path tmp = path.string() + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Error(tmp.string() + ": cannot open for writing");
  std::vector<char> buf(8u << 20);
  std::setvbuf(f, buf.data(), _IOFBF, buf.size());
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(h.size()) >> (8 * i));
  bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(h.data(), 1, h.size(), f) == h.size();
  constexpr size_t kDropEvery = 64u << 20;
  for (const TensorPlan* p : tensors) {
    const uint8_t* dropped = p->src->data;  // source bytes below this are released
    for (auto [r0, r1] : p->rows)
      for (int64_t r = r0; r < r1 && ok; ++r) {
        const uint8_t* row = p->src->data + static_cast<size_t>(r) * p->row_bytes;
        for (auto [b, e] : p->cols) ok = ok && std::fwrite(row + b, 1, e - b, f) == e - b;
        if (row + p->row_bytes - dropped >= static_cast<ptrdiff_t>(kDropEvery)) {
          DropPages(dropped, row + p->row_bytes);
          dropped = row + p->row_bytes;
          const double frac = static_cast<double>(dropped - p->src->data) / static_cast<double>(p->src->nbytes);
          bar.Update(done + static_cast<uint64_t>(frac * static_cast<double>(p->nbytes)), total, p->name);
        }
      }
    if (p->src->nbytes >= kDropEvery / 64) DropPages(dropped, p->src->data + p->src->nbytes);
    done += p->nbytes;
    bar.Update(done, total, p->name);
  }
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    fs::remove(tmp);
    return Error(tmp.string() + ": write failed (disk full?)");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Error(path.string() + ": cannot rename from " + tmp.filename().string() + ": " + ec.message());
  return Status();
}

Status WriteTensors(const fs::path& out, std::vector<TensorPlan>& plans, double shard_gb) {
  std::sort(plans.begin(), plans.end(), [](const TensorPlan& a, const TensorPlan& b) { return a.name < b.name; });
  const uint64_t limit = static_cast<uint64_t>(shard_gb * 1e9);
  std::vector<std::vector<const TensorPlan*>> shards(1);
  uint64_t in_shard = 0, total = 0;
  for (const TensorPlan& p : plans) {
    if (!shards.back().empty() && in_shard + p.nbytes > limit) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(&p);
    in_shard += p.nbytes;
    total += p.nbytes;
  }
  // Wider elements first, so every tensor starts aligned to its element size.
  for (auto& s : shards)
    std::stable_sort(s.begin(), s.end(), [](const TensorPlan* a, const TensorPlan* b) {
      return DTypeSize(a->src->dtype) > DTypeSize(b->src->dtype);
    });
  ProgressBar bar("slice");
  uint64_t done = 0;
  const size_t n = shards.size();
  nlohmann::json weight_map = nlohmann::json::object();
  int64_t params = 0;
  for (size_t k = 0; k < n; ++k) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", k + 1, n);
    const std::string file = n == 1 ? "model.safetensors" : name;
    G3N_RETURN_IF_ERROR(WriteShard(out / file, shards[k], bar, done, total));
    for (const TensorPlan* p : shards[k]) {
      weight_map[p->name] = file;
      int64_t numel = 1;
      for (int64_t d : p->shape) numel *= d;
      params += numel;
    }
  }
  if (n == 1) return Status();
  nlohmann::json index = {{"metadata", {{"total_parameters", params}, {"total_size", total}}},
                          {"weight_map", weight_map}};
  return WriteText(out / "model.safetensors.index.json", index.dump(2) + "\n");
}

Status CopySideFiles(const fs::path& src, const fs::path& out) {
  static const char* kFiles[] = {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model",
                                 "special_tokens_map.json", "added_tokens.json", "chat_template.jinja",
                                 "chat_template.json", "preprocessor_config.json", "processor_config.json"};
  for (const char* name : kFiles) {
    std::error_code ec;
    if (!fs::is_regular_file(src / name, ec)) continue;
    fs::copy_file(src / name, out / name, fs::copy_options::overwrite_existing, ec);
    if (ec) return Error((out / name).string() + ": cannot copy from " + (src / name).string() + ": " + ec.message());
  }
  return Status();
}

Status WriteHfSlice(const Model& m, const SubModelLayout& lay, const fs::path& out, double shard_gb) {
  std::error_code ec;
  if (fs::exists(out, ec) && !(fs::is_directory(out, ec) && fs::is_empty(out, ec)))
    return Error(out.string() + ": exists and is not an empty folder; choose a new --out");
  fs::create_directories(out, ec);
  if (ec) return Error(out.string() + ": cannot create: " + ec.message());
  G3N_ASSIGN_OR_RETURN(std::string config, SlicedConfigJson(m, lay));
  G3N_RETURN_IF_ERROR(WriteText(out / "config.json", config));
  G3N_RETURN_IF_ERROR(CopySideFiles(m.checkpoint.dir, out));
  G3N_ASSIGN_OR_RETURN(std::vector<TensorPlan> plans, PlanTensors(m, lay));
  return WriteTensors(out, plans, shard_gb);
}

Status WriteGgufSlice(const Model& m, const SubModelLayout& lay, const fs::path& out, const Args& args) {
  GgufConvertOptions opt;
  const TensorView* gate = m.checkpoint.Find(TextPrefix(m.checkpoint) + "layers.0.mlp.gate_proj.weight");
  const DType src = gate ? gate->dtype : DType::BF16;
  const std::string def = src == DType::F32 ? "F32" : src == DType::F16 ? "F16" : "BF16";
  G3N_ASSIGN_OR_RETURN(opt.mix, ParseGgufMix(args.Get("type", def)));
  const fs::path tmp = out.string() + ".hf-slice.tmp";
  std::error_code ec;
  if (fs::exists(tmp, ec)) return Error(tmp.string() + ": exists (left by an interrupted slice?); remove it first");
  Status st = WriteHfSlice(m, lay, tmp, 1e9);
  if (st.ok()) {
    auto sliced = LoadModel(tmp.string());
    st = sliced.status();
    if (st.ok()) {
      ProgressBar bar("gguf ");
      opt.progress = [&](size_t, size_t, uint64_t b, uint64_t tb, const std::string& name) { bar.Update(b, tb, name); };
      std::string warning;
      st = ConvertToGguf(**sliced, tmp.string(), out.string(), opt, &warning);
      if (!warning.empty()) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    }
  }
  fs::remove_all(tmp, ec);
  return st;
}

}  // namespace

int SliceCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "submodel", "out", "shard-gb", "type"});
  if (!st.ok()) return Fail(st);
  if (!args.Has("model") || !args.Has("submodel") || !args.Has("out"))
    return Fail(Error("usage: gemma3n slice --model E4B_DIR --submodel NAME|SPEC_FILE --out DIR|FILE.gguf "
                      "[--shard-gb 4] [--type MIX]"));
  auto shard_gb = args.GetDouble("shard-gb", 4.0);
  if (!shard_gb.ok()) return Fail(shard_gb.status());
  if (!(*shard_gb > 0)) return Fail(Error("--shard-gb must be positive"));
  const std::string out = args.Get("out");
  const bool gguf = fs::path(out).extension() == ".gguf";
  if (args.Has("type") && !gguf) return Fail(Error("--type applies to GGUF output (--out FILE.gguf) only"));
  auto model = LoadModel(args.Get("model"));
  if (!model.ok()) return Fail(model.status());
  if ((*model)->from_gguf)
    return Fail(Error(args.Get("model") + ": --model must be a Hugging Face folder, not a GGUF file"));
  auto spec = ResolveSubModel(args.Get("submodel"));
  if (!spec.ok()) return Fail(spec.status());
  auto lay = PlanSubModel((*model)->config.text, *spec);
  if (!lay.ok()) return Fail(lay.status());
  st = gguf ? WriteGgufSlice(**model, *lay, out, args) : WriteHfSlice(**model, *lay, out, *shard_gb);
  if (!st.ok()) return Fail(st);
  const TextParamCounts n = CountTextParams(lay->config);
  std::fprintf(stderr, "wrote %s: %s, %d layers, %.4fB effective / %.4fB text parameters\n", out.c_str(),
               spec->name.c_str(), lay->config.num_layers, n.effective / 1e9, n.total() / 1e9);
  return 0;
}

}  // namespace g3n::cli
