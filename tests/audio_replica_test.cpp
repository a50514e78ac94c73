// Opt-in speed check of the full-size audio tower: set G3N_AUDIO_REPLICA_DIR to a folder written
// by tools/make_audio_replica.py (random weights, real names/shapes/dtypes). Times one 30 s clip
// through the encoder + embed_audio with 2 threads; skipped when the variable is unset.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>

#include "audio/audio_tokens.h"
#include "audio/audio_weights.h"
#include "audio/mel_features.h"
#include "io/checkpoint.h"
#include "model/model.h"

namespace g3n {
namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(AudioReplica, FullSizeEncoderThirtySeconds) {
  const char* dir = std::getenv("G3N_AUDIO_REPLICA_DIR");
  if (dir == nullptr) GTEST_SKIP() << "set G3N_AUDIO_REPLICA_DIR (tools/make_audio_replica.py)";
  // The replica holds only audio tensors, so the text weights are not bound.
  auto ck = OpenCheckpoint(dir);
  ASSERT_TRUE(ck.ok()) << ck.status().message();
  Model m;
  m.checkpoint = std::move(*ck);
  auto cfg = ParseModelConfig(m.checkpoint.config_json, m.checkpoint.generation_config_json, dir);
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  m.config = std::move(*cfg);
  auto w = BindAudioWeights(m);
  ASSERT_TRUE(w.ok()) << w.status().message();

  std::vector<float> x(480000);
  for (size_t i = 0; i < x.size(); ++i) {
    const double k = static_cast<double>(i), pi = std::numbers::pi;
    x[i] = static_cast<float>(0.25 * std::sin(2 * pi * 440.0 * k / 16000) +
                              0.1 * std::sin(2 * pi * (150.0 + 0.25 * k / 16000) * k / 16000));
  }
  ThreadPool pool(2);
  auto t0 = std::chrono::steady_clock::now();
  const MelFeatures f = LogMelExtractor().Extract(x, &pool);
  const double mel_s = Seconds(t0);
  AudioTokens tokens(*w, &pool);
  for (int run = 0; run < 2; ++run) {  // run 0 also faults the mapped weights in
    t0 = std::chrono::steady_clock::now();
    auto rows = tokens.ClipRows(f);
    const double s = Seconds(t0);
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    for (float v : *rows) ASSERT_TRUE(std::isfinite(v));
    std::printf("full-size audio tower, 30 s clip (%lld frames), 2 threads: log-mel %.3f s, encoder + embed_audio "
                "%.3f s (run %d)\n",
                static_cast<long long>(f.frames), mel_s, s, run);
  }
}

}  // namespace
}  // namespace g3n
