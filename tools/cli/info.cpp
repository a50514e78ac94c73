// gemma3n info: what a checkpoint holds and how the engine reads it.
#include <cstdio>

#include "cli/common.h"
#include "kernels/ops.h"

namespace g3n::cli {

int InfoCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "t", "threads"});
  if (!st.ok()) return Fail(st);
  auto engine = LoadEngine(args);
  if (!engine.ok()) return Fail(engine.status());
  const Model& m = *engine->model;
  const TextConfig& c = m.config.text;
  std::printf("checkpoint   %s (%zu files, %.2f GiB, %zu tensors)\n", m.checkpoint.dir.c_str(),
              m.checkpoint.files.size(), m.checkpoint.total_bytes() / 1073741824.0, m.checkpoint.tensors.size());
  std::printf("config       %s%s\n", m.config.multimodal ? "Gemma3nForConditionalGeneration" : "text-only",
              m.config.multimodal ? " (vision/audio weights not loaded)" : "");
  std::printf("text         %d layers, hidden %d, heads %d/%d x %d, vocab %d, PLE %d x %d\n", c.num_layers,
              c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim, c.vocab_size, c.vocab_size_per_layer_input,
              c.per_layer_dim);
  std::printf("layers       ");
  for (int l = 0; l < c.num_layers; ++l) {
    std::printf("%d:%c%s%s ffn=%d ", l, c.layer_types[l] == LayerType::Full ? 'G' : 'L',
                c.is_kv_consumer(l) ? ("<kv" + std::to_string(c.kv_source[l])).c_str() : "",
                c.activation_sparsity[l] > 0 ? "*" : "", c.intermediate_size[l]);
  }
  std::printf("\n             (G global, L local, <kvN shares layer N's cache, * sparse)\n");
  std::printf("rope         local %.0f, global %.0f; window %d; softcap %.1f\n", c.rope_theta_local,
              c.rope_theta_global, c.sliding_window, c.final_logit_softcap);
  std::printf("kernels      %s, %d threads\n", KernelTargetName(), engine->pool->size());
  return 0;
}

}  // namespace g3n::cli
