// gemma3n info: what a checkpoint holds and how the engine reads it.
#include <cstdio>
#include <optional>

#include "cli/common.h"
#include "kernels/ops.h"
#include "model/memory_need.h"
#include "model/published_submodels.h"
#include "model/submodel.h"
#include "util/memory_budget.h"

namespace g3n::cli {
namespace {

std::string Commas(int64_t v) {
  const std::string digits = std::to_string(v);
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
    s.push_back(digits[i]);
  }
  return s;
}

// 3.9805B for real models, 0.597M for test fixtures.
std::string Short(int64_t v) {
  char buf[32];
  if (v >= 100000000) std::snprintf(buf, sizeof(buf), "%.4fB", v / 1e9);
  else std::snprintf(buf, sizeof(buf), "%.3fM", v / 1e6);
  return buf;
}

void PrintLayers(const TextConfig& c, const std::vector<int>* stored_index) {
  std::string line;
  for (int l = 0; l < c.num_layers; ++l) {
    line.append(std::to_string(l));
    if (stored_index) line.append("(").append(std::to_string((*stored_index)[l])).append(")");
    line.append(":").append(c.layer_types[l] == LayerType::Full ? "G" : "L");
    if (c.is_kv_consumer(l)) line.append("<kv").append(std::to_string(c.kv_source[l]));
    if (c.activation_sparsity[l] > 0) line.append("*");
    line.append(" ffn=").append(std::to_string(c.intermediate_size[l])).append(" ");
  }
  std::printf("layers       %s\n", line.c_str());
  std::printf("             (G global, L local, <kvN shares layer N's cache, * sparse%s)\n",
              stored_index ? ", (N) stored layer" : "");
}

void PrintParams(const char* label, const TextConfig& c) {
  const TextParamCounts n = CountTextParams(c);
  std::printf("%-12s total %s (%s) = effective %s (%s) + embed %s + PLE %s\n", label, Commas(n.total()).c_str(),
              Short(n.total()).c_str(), Commas(n.effective).c_str(), Short(n.effective).c_str(),
              Commas(n.embed).c_str(), Commas(n.ple).c_str());
}

// Published mix-n-match configurations that fit this model (E4B or an E4B-like replica).
void PrintSubModels(const TextConfig& stored) {
  bool any = false;
  for (const PublishedSubModel& p : PublishedSubModels()) {
    auto spec = FindPublishedSubModel(p.name);
    if (!spec.ok()) continue;
    auto lay = PlanSubModel(stored, *spec);
    if (!lay.ok()) continue;
    if (!any) std::printf("sub-models   (--submodel NAME; effective params computed for this model)\n");
    any = true;
    std::printf("  %-14s %2d layers  %s effective  (published %.2fB, MMLU PT %s)  ffn %s\n", p.name.c_str(),
                lay->config.num_layers, Short(CountTextParams(lay->config).effective).c_str(), p.listed_params_b,
                p.mmlu_pt.c_str(), p.ffn_pattern.c_str());
  }
  if (!any)
    std::printf("sub-models   none published for this shape (the MatFormer configurations need E4B's 35 layers)\n");
}

}  // namespace

int InfoCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "t", "threads", "submodel", "ctx", "chunk", "kv-type"});
  if (!st.ok()) return Fail(st);
  auto engine = LoadEngine(args);
  if (!engine.ok()) return Fail(engine.status());
  const Model& m = *engine->model;
  const TextConfig& stored = m.config.text;
  std::optional<SubModel> sub;
  if (args.Has("submodel")) {
    auto r = ApplySubModelFromArgs(m, args.Get("submodel"));
    if (!r.ok()) return Fail(r.status());
    sub = std::move(*r);
  }
  const TextConfig& c = sub ? sub->config : stored;
  if (m.from_gguf) {
    std::printf("checkpoint   %s (GGUF v%u, %.2f GiB, %zu tensors)\n", m.gguf.path().c_str(), m.gguf.version,
                m.gguf.file->size() / 1073741824.0, m.gguf.tensors.size());
  } else {
    std::printf("checkpoint   %s (%zu files, %.2f GiB, %zu tensors)\n", m.checkpoint.dir.c_str(),
                m.checkpoint.files.size(), m.checkpoint.total_bytes() / 1073741824.0, m.checkpoint.tensors.size());
  }
  std::printf("config       %s%s\n", m.config.multimodal ? "Gemma3nForConditionalGeneration" : "text-only",
              m.config.multimodal ? " (vision/audio weights not loaded)" : "");
  std::printf("text         %d layers, hidden %d, heads %d/%d x %d, vocab %d, PLE %d x %d\n", stored.num_layers,
              stored.hidden_size, stored.num_heads, stored.num_kv_heads, stored.head_dim, stored.vocab_size,
              stored.vocab_size_per_layer_input, stored.per_layer_dim);
  PrintParams("params", stored);
  if (sub) {
    std::vector<int> skipped;
    for (int l = 0, j = 0; l < stored.num_layers; ++l) {
      if (j < static_cast<int>(sub->kept_layers.size()) && sub->kept_layers[j] == l) ++j;
      else skipped.push_back(l);
    }
    std::string skip_list;
    for (int s : skipped) {
      if (!skip_list.empty()) skip_list.append(",");
      skip_list.append(std::to_string(s));
    }
    std::printf("submodel     %s: %d of %d layers%s%s; %d KV-shared layers\n", sub->spec.name.c_str(), c.num_layers,
                stored.num_layers, skipped.empty() ? "" : ", skips ", skip_list.c_str(), c.num_kv_shared_layers);
    PrintParams("sub params", c);
    std::printf("resident     %.1f MiB of weights read per token (stored model: %.1f MiB)\n",
                ResidentWeightBytes(sub->weights) / 1048576.0, ResidentWeightBytes(m.weights) / 1048576.0);
  }
  PrintLayers(c, sub ? &sub->kept_layers : nullptr);
  PrintSubModels(stored);
  std::printf("rope         local %.0f, global %.0f; window %d; softcap %.1f\n", c.rope_theta_local,
              c.rope_theta_global, c.sliding_window, c.final_logit_softcap);
  std::printf("kernels      %s, %d threads\n", KernelTargetName(), engine->pool->size());
  // What a run needs (the figure checked against the memory limits before anything loads).
  auto so = SessionFromArgs(args, *engine);
  if (!so.ok()) return Fail(so.status());
  const MemoryNeed need = TextRunNeed(c, engine->weights(), *so, engine->pool->size());
  const MemoryLimits limits = ReadMemoryLimits();
  std::printf("memory       ~%s for one session of %d tokens (%s); limit %s\n", MiB(need.resident).c_str(), so->capacity,
              need.breakdown.c_str(),
              limits.resident ? (MiB(limits.resident->bytes) + " (" + limits.resident->source + ")").c_str() : "none");
  return 0;
}

}  // namespace g3n::cli
