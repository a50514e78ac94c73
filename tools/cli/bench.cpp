// gemma3n bench: load time, prefill and decode throughput, peak RSS (like llama-bench).
#include <cstdio>
#include <random>
#include <vector>

#include "api/media.h"
#include "cli/api_model.h"
#include "cli/common.h"
#include "model/weight_store.h"
#include "kernels/ops.h"
#include "runtime/generate.h"
#include "util/sysinfo.h"

namespace g3n::cli {

int BenchCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "submodel", "p", "n", "t", "threads", "json", "ctx", "chunk", "kv-type", "memory",
                               "no-warmup", "image", "audio", "mmproj", "encoder-type"});
  if (!st.ok()) return Fail(st);
  auto p = args.GetInt("p", 512);
  auto n = args.GetInt("n", 128);
  if (!p.ok()) return Fail(p.status());
  if (!n.ok()) return Fail(n.status());
  if (*p < 1 || *n < 0) return Fail(Error("-p must be >= 1 and -n >= 0"));
  auto engine = LoadEngine(args);
  if (!engine.ok()) return Fail(engine.status());
  const TextConfig& c = engine->text();
  if (*p + *n > c.max_position_embeddings) return Fail(Error("-p + -n exceeds max_position_embeddings"));

  // --image / --audio: the towers load and encode each file once before the text run, so that
  // the peak and the memory figures include them (and their times are reported).
  double image_s = 0.0, audio_s = 0.0;
  size_t audio_clips = 0;
  std::unique_ptr<api::Media> media;
  if (args.Has("image") || args.Has("audio")) {
    api::MediaOptions mo;
    mo.towers = args.Get("mmproj");
    auto enc = ParseEncoderWeightType(args.Get("encoder-type"));
    if (!enc.ok()) return Fail(enc.status());
    mo.encoder_type = *enc;
    const api::ApiStatus ms = api::Media::Create(*engine->model, engine->pool.get(), mo, &media);
    if (!ms.ok()) return Fail(Error(ms.message));
    for (const std::string& path : args.GetAll("image")) {
      auto bytes = ReadBinaryFile(path);
      if (!bytes.ok()) return Fail(bytes.status());
      std::vector<float> rows;
      const double t0 = NowSeconds();
      const api::ApiStatus is = media->EncodeImage(bytes->data(), bytes->size(), &rows);
      if (!is.ok()) return Fail(Error(path + ": " + is.message));
      image_s = NowSeconds() - t0;  // the last one: the first also binds the tower
    }
    for (const std::string& path : args.GetAll("audio")) {
      auto bytes = ReadBinaryFile(path);
      if (!bytes.ok()) return Fail(bytes.status());
      std::vector<std::vector<float>> clips;
      const double t0 = NowSeconds();
      const api::ApiStatus as = media->EncodeAudio(bytes->data(), bytes->size(), &clips);
      if (!as.ok()) return Fail(Error(path + ": " + as.message));
      audio_s = NowSeconds() - t0;
      audio_clips = clips.size();
    }
  }

  // Random prompt ids after <bos>, drawn from the text vocabulary.
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> id(3, c.vocab_size_per_layer_input - 1);
  std::vector<int32_t> prompt{2};
  while (static_cast<int>(prompt.size()) < *p) prompt.push_back(id(rng));
  auto session_opt = SessionFromArgs(args, *engine);
  if (!session_opt.ok()) return Fail(session_opt.status());
  session_opt->capacity = std::max(session_opt->capacity, *p + *n + 1);
  Session session = engine->decoder->NewSession(*session_opt);
  // Warm-up, as llama-bench does by default: a short prefill and two decode steps map every
  // weight page in, so the timed runs measure compute, not first-touch page faults.
  if (!args.Has("no-warmup")) {
    Session warm = engine->decoder->NewSession(SessionOptions{64, session_opt->max_chunk, session_opt->kv_type});
    GenerateOptions wo;
    wo.max_new_tokens = 2;
    wo.prefill_chunk = session_opt->max_chunk;
    const std::vector<int32_t> few(prompt.begin(), prompt.begin() + std::min<size_t>(prompt.size(), 16));
    st = Generate(*engine->decoder, warm, few, wo, nullptr, nullptr, nullptr);
    if (!st.ok()) return Fail(st);
  }
  GenerateOptions opt;
  opt.max_new_tokens = *n;
  opt.prefill_chunk = session_opt->max_chunk;  // sampling stays greedy; no stop ids so exactly n tokens are decoded
  GenerateStats stats;
  st = Generate(*engine->decoder, session, prompt, opt, nullptr, nullptr, &stats);
  if (!st.ok()) return Fail(st);
  const double pp = stats.prompt_tokens / std::max(stats.prefill_seconds, 1e-9);
  // The first sampled token needs no decode step; n tokens cost n-1 forward passes.
  const double tg = stats.generated_tokens > 1 ? (stats.generated_tokens - 1) / std::max(stats.decode_seconds, 1e-9) : 0.0;
  const double rss = PeakRssBytes() / 1048576.0;
  const double MiB = 1048576.0;
  char memory[512] = "";
  if (args.Has("memory")) {
    const RowSourceStats ple = engine->decoder->ple_stats();
    std::snprintf(memory, sizeof(memory),
                  ", \"memory_mib\": {\"weights_resident\": %.1f, \"ple_cache\": %.1f, \"kv_cache\": %.1f, "
                  "\"activations\": %.1f, \"encoders\": %.1f}, \"ple_rows_read\": %llu, \"ple_cache_hits\": %llu",
                  ResidentWeightBytes(engine->weights()) / MiB, engine->decoder->ple_cache_bytes() / MiB,
                  session.cache_bytes() / MiB, session.scratch.bytes() / MiB,
                  (media ? media->encoder_resident_bytes() : 0) / MiB,
                  static_cast<unsigned long long>(ple.reads), static_cast<unsigned long long>(ple.hits));
  }
  char encoders[256] = "";
  if (media) {
    std::snprintf(encoders, sizeof(encoders),
                  ", \"image_encode_s\": %.3f, \"audio_encode_s\": %.3f, \"audio_clips\": %zu, \"encoder_type\": \"%s\"",
                  image_s, audio_s, audio_clips, args.Get("encoder-type", "stored").c_str());
  }
  if (args.Has("json")) {
    std::printf(
        "{\"model\": \"%s\", \"threads\": %d, \"n_prompt\": %d, \"n_gen\": %d, \"load_s\": %.3f, "
        "\"prefill_tok_s\": %.2f, \"decode_tok_s\": %.2f, \"peak_rss_mib\": %.1f, \"kv_type\": \"%s\", "
        "\"kv_cache_mib\": %.1f, \"kernel_target\": \"%s\"%s%s}\n",
        args.Get("model").c_str(), engine->pool->size(), stats.prompt_tokens, stats.generated_tokens,
        engine->load_seconds, pp, tg, rss, KvTypeName(session_opt->kv_type), session.cache_bytes() / 1048576.0,
        KernelTargetName(), memory, encoders);
  } else {
    char decode[64];
    if (stats.generated_tokens > 1) {
      std::snprintf(decode, sizeof(decode), "%.2f tok/s", tg);
    } else {  // the one token comes from the prefill pass
      std::snprintf(decode, sizeof(decode), "- (no decode step)");
    }
    std::printf("model %s | threads %d | load %.3f s | pp%d %.2f tok/s | tg%d %s | peak RSS %.1f MiB | %s\n",
                args.Get("model").c_str(), engine->pool->size(), engine->load_seconds, stats.prompt_tokens, pp,
                stats.generated_tokens, decode, rss, KernelTargetName());
    if (memory[0] != '\0') std::printf("memory%s\n", memory + 1);
    if (encoders[0] != '\0') std::printf("encoders%s\n", encoders + 1);
  }
  return 0;
}

}  // namespace g3n::cli
