// Audio tower + embed_audio vs transformers on tests/fixtures/tiny-audio (written by
// tools/make_audio_model_fixtures.py): every encoder stage for a 30 s clip, a 1 s clip and a
// padded clip of a two-clip batch; the hard path; the 188 rows per clip; decoder logits for a
// prompt holding one expanded audio placeholder; and the errors for bad checkpoints/inputs.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

#include "audio/audio_encoder.h"
#include "audio/audio_tokens.h"
#include "audio/audio_weights.h"
#include "audio/mel_features.h"
#include "audio/sscp.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "model/text_decoder.h"
#include "test_util.h"

namespace g3n {
namespace {

using testing::ToFloats;

const SafetensorsFile& Ref() {
  static const SafetensorsFile ref = [] {
    auto r = OpenSafetensors(testing::FixtureDir("tiny-audio/reference.safetensors"));
    if (!r.ok()) {
      ADD_FAILURE() << r.status().message();
      return SafetensorsFile{};
    }
    return std::move(*r);
  }();
  return ref;
}
std::vector<float> RefF(const std::string& k) { return ToFloats(Ref().tensors.at(k)); }
std::vector<uint8_t> RefU8(const std::string& k) {
  const TensorView& t = Ref().tensors.at(k);
  return std::vector<uint8_t>(t.data, t.data + t.nbytes);
}

struct Loaded {
  std::unique_ptr<Model> model;
  AudioWeights weights;
};

const Loaded& TinyAudio() {
  static const Loaded l = [] {
    Loaded x;
    auto m = LoadModel(testing::FixtureDir("tiny-audio"));
    if (!m.ok()) {
      ADD_FAILURE() << m.status().message();
      return x;
    }
    x.model = std::move(*m);
    auto w = BindAudioWeights(*x.model);
    if (!w.ok()) {
      ADD_FAILURE() << w.status().message();
      return x;
    }
    x.weights = std::move(*w);
    return x;
  }();
  return l;
}

// Max |Δ| and cosine over the rows whose mask entry is set (all rows when mask is empty).
void Compare(const std::string& what, const std::vector<float>& want, const std::vector<float>& got, int64_t width,
             const std::vector<uint8_t>& rows_mask, double rel_tol, double min_cos = 0.99999) {
  ASSERT_EQ(want.size(), got.size()) << what;
  double dmax = 0, scale = 0, ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!rows_mask.empty() && !rows_mask[i / static_cast<size_t>(width)]) continue;
    const double a = want[i], b = got[i];
    dmax = std::max(dmax, std::fabs(a - b));
    scale = std::max(scale, std::fabs(a));
    ab += a * b;
    aa += a * a;
    bb += b * b;
  }
  const double cos = (aa > 0 && bb > 0) ? ab / std::sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
  std::printf("  %-28s max|d| %.3g (max|ref| %.3g, rel %.2g)  cos %.9f\n", what.c_str(), dmax, scale,
              scale > 0 ? dmax / scale : 0.0, cos);
  EXPECT_LE(dmax, rel_tol * std::max(scale, 1e-6)) << what;
  EXPECT_GE(cos, min_cos) << what;
}

// Every stage of one reference clip (prefix long / batch.0 / batch.1).
void CheckClip(const std::string& p) {
  const Loaded& L = TinyAudio();
  ASSERT_TRUE(L.model);
  const int D = L.weights.config.hidden_size, H = L.weights.text_hidden_size;
  ThreadPool pool(2);
  AudioTokens tokens(L.weights, &pool);
  const std::vector<float> feats = RefF(p + ".features");
  const std::vector<uint8_t> fmask = RefU8(p + ".features_mask");
  const int64_t frames = static_cast<int64_t>(fmask.size());
  AudioTokensTrace tr;
  const auto t0 = std::chrono::steady_clock::now();
  auto rows = tokens.ClipRows(feats.data(), fmask.data(), frames, &tr);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  std::printf("%s: %lld mel frames -> %zu -> %lld tokens, encoder + embed %.1f ms (2 threads)\n", p.c_str(),
              static_cast<long long>(frames), tr.encoder.sscp_valid.size(), static_cast<long long>(tr.encoding.frames),
              ms);
  // Padded frames of a batch clip are compared too: HF's uniform softmax over fully masked
  // windows is reproduced, so they match as well.
  const std::vector<uint8_t> all;
  Compare(p + " sscp", RefF(p + ".sscp"), tr.encoder.sscp, D, all, 1e-5);
  for (size_t b = 0; b < tr.encoder.blocks.size(); ++b)
    Compare(p + " block " + std::to_string(b), RefF(p + ".block." + std::to_string(b)), tr.encoder.blocks[b], D, all,
            1e-4);
  EXPECT_EQ(tr.encoding.valid, RefU8(p + ".encoder_mask")) << p;
  Compare(p + " encoder", RefF(p + ".encoder"), tr.encoding.values, D, all, 1e-4);
  Compare(p + " embed_audio soft", RefF(p + ".soft"), tr.soft, H, all, 1e-4);
  Compare(p + " 188 rows", RefF(p + ".rows"), *rows, H, all, 1e-4);
}

TEST(AudioEncoder, ThirtySecondClipEveryStage) { CheckClip("long"); }
TEST(AudioEncoder, OneSecondClipEveryStage) { CheckClip("batch.0"); }
TEST(AudioEncoder, PaddedBatchClipEveryStage) { CheckClip("batch.1"); }

TEST(AudioEncoder, TokenCountsFollowTheSpec) {
  const Loaded& L = TinyAudio();
  ASSERT_TRUE(L.model);
  AudioEncoder enc(L.weights, nullptr);
  // Spec §3.7: F mel frames -> ceil(ceil(F/2)/2) -> ceil(/4).
  const std::pair<int64_t, int64_t> cases[] = {{48, 3}, {97, 7}, {197, 13}, {497, 32}, {2997, 188}, {1, 1}};
  for (auto [f, n] : cases) EXPECT_EQ(enc.OutputFrames(f), n) << f;
}

TEST(AudioEncoder, CumulativeGroupNormUsesPerFrameMeans) {
  // Two frames, group 2, one channel: frame 1's variance keeps frame 0's deviations from mu_0.
  std::vector<float> x{1, 3, 5, 7};
  const float w = 1.0f;
  CumulativeGroupNorm(x.data(), 2, 2, &w, 1, 0.0f);
  // t=0: mu 2, Q 2, var 1 -> (-1, 1). t=1: mu 4, Q = 2 + (1 + 9) = 12, var 3.
  EXPECT_NEAR(x[0], -1.0f, 1e-6);
  EXPECT_NEAR(x[1], 1.0f, 1e-6);
  EXPECT_NEAR(x[2], 1.0f / std::sqrt(3.0f), 1e-6);
  EXPECT_NEAR(x[3], 3.0f / std::sqrt(3.0f), 1e-6);
}

TEST(AudioEmbedder, HardPathForEveryAudioId) {
  const Loaded& L = TinyAudio();
  ASSERT_TRUE(L.model);
  AudioTokens tokens(L.weights, nullptr);
  const int V = L.weights.config.vocab_size, off = L.weights.config.vocab_offset, H = tokens.hidden();
  std::vector<float> got;
  for (int i = 0; i < V; ++i) {
    auto e = tokens.HardEmbedding(off + i);
    ASSERT_TRUE(e.ok()) << e.status().message();
    got.insert(got.end(), e->begin(), e->end());
  }
  Compare("hard path, all ids", RefF("hard"), got, H, {}, 1e-5);
  EXPECT_FALSE(tokens.HardEmbedding(off - 1).ok());
  EXPECT_FALSE(tokens.HardEmbedding(off + V).ok());
}

TEST(AudioTokens, PromptLogitsMatchTransformers) {
  const Loaded& L = TinyAudio();
  ASSERT_TRUE(L.model);
  ThreadPool pool(2);
  AudioTokens tokens(L.weights, &pool);
  auto clip = tokens.ClipRows(RefF("batch.0.features").data(), RefU8("batch.0.features_mask").data(),
                              static_cast<int64_t>(RefU8("batch.0.features_mask").size()));
  ASSERT_TRUE(clip.ok()) << clip.status().message();
  const std::vector<int32_t> ids = testing::ToInts(Ref().tensors.at("prompt_ids"));
  auto pr = tokens.PromptRows(ids, {*clip});
  ASSERT_TRUE(pr.ok()) << pr.status().message();
  EXPECT_EQ(pr->rows.size(), static_cast<size_t>(tokens.slots()) + 1);  // 188 soft + <end_of_audio>

  const TextConfig& c = L.model->config.text;
  TextDecoder dec(c, L.model->weights, &pool);
  const int T = static_cast<int>(ids.size()), V = c.vocab_size, H = c.hidden_size;
  Session s = dec.NewSession(T);
  std::vector<int> all(T);
  for (int t = 0; t < T; ++t) all[t] = t;
  std::vector<float> logits(static_cast<size_t>(T) * V);
  ForwardTrace trace;
  const EmbeddingOverrides o = pr->overrides();
  Status st = dec.Forward(s, ids.data(), T, all, logits.data(), &trace, &o);
  ASSERT_TRUE(st.ok()) << st.message();
  Compare("prompt inputs_embeds", RefF("prompt_embeddings"), trace.embeddings, H, {}, 1e-5);
  const std::vector<float> want = RefF("prompt_logits");
  Compare("prompt logits", want, logits, V, {}, 1e-4);
  int mismatched = 0;
  for (int t = 0; t < T; ++t)
    mismatched += testing::Argmax(want.data() + t * V, V) != testing::Argmax(logits.data() + t * V, V);
  EXPECT_EQ(mismatched, 0) << "positions whose argmax differs";
}

// The real path: waveform -> our log-mel -> encoder. Our features differ from transformers' in
// the deep spectral valleys of pure tones (tests/fixtures/README.md), so this bound is looser.
TEST(AudioTokens, FromWaveformThirtySeconds) {
  const Loaded& L = TinyAudio();
  ASSERT_TRUE(L.model);
  std::vector<float> x(480000);
  for (size_t i = 0; i < x.size(); ++i) {
    const double k = static_cast<double>(i), pi = std::numbers::pi;
    const double v = 8000.0 * std::sin(2 * pi * 440.0 * k / 16000) +
                     4000.0 * std::sin(2 * pi * (150.0 + 0.25 * k / 16000) * k / 16000);
    x[i] = static_cast<float>(std::nearbyint(v) / 32768.0);
  }
  ThreadPool pool(2);
  LogMelExtractor fe;
  const MelFeatures f = fe.Extract(x, &pool);
  AudioTokens tokens(L.weights, &pool);
  auto rows = tokens.ClipRows(f);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  Compare("long rows from waveform", RefF("long.rows"), *rows, tokens.hidden(), {}, 5e-4, 0.99999);
}

TEST(AudioTokens, BadInputsAreErrors) {
  const Loaded& L = TinyAudio();
  ASSERT_TRUE(L.model);
  AudioTokens tokens(L.weights, nullptr);
  MelFeatures empty;
  empty.bins = 128;
  EXPECT_FALSE(tokens.ClipRows(empty).ok());  // no frames
  MelFeatures narrow;
  narrow.frames = 4;
  narrow.bins = 64;
  narrow.values.assign(4 * 64, 0.0f);
  auto r = tokens.ClipRows(narrow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("mel bins"), std::string::npos) << r.status().message();
  MelFeatures ragged;
  ragged.frames = 4;
  ragged.bins = 128;
  ragged.values.assign(3 * 128, 0.0f);
  EXPECT_FALSE(tokens.ClipRows(ragged).ok());
  // More than 30 s of frames do not fit the 188 slots.
  std::vector<float> long_feats(3200 * 128, -5.0f);
  EXPECT_FALSE(tokens.ClipRows(long_feats.data(), nullptr, 3200).ok());
  // Soft-token count must match the clips.
  const std::vector<int32_t> ids{2, 105, L.weights.config.audio_token_id, 106};
  EXPECT_FALSE(tokens.PromptRows(ids, {}).ok());
  EXPECT_FALSE(tokens.PromptRows(ids, {std::vector<float>(3, 0.0f)}).ok());
}

std::string BindError(const Model& m) {
  auto w = BindAudioWeights(m);
  return w.ok() ? std::string() : w.status().message();
}

TEST(AudioWeights, BindsTheTinyCheckpoint) {
  const Loaded& L = TinyAudio();
  ASSERT_TRUE(L.model);
  const AudioConfig& c = L.weights.config;
  EXPECT_EQ(c.hidden_size, 32);
  EXPECT_EQ(c.num_layers, 2);
  EXPECT_EQ(c.num_heads, 4);
  EXPECT_EQ(c.sscp_channels, (std::vector<int>{16, 8}));
  EXPECT_EQ(c.vocab_offset, 384);
  EXPECT_EQ(c.audio_token_id, 385);
  EXPECT_EQ(c.soft_tokens_per_clip, 188);
  EXPECT_EQ(L.weights.blocks.size(), 2u);
  EXPECT_EQ(L.weights.text_hidden_size, 64);
  EXPECT_EQ(L.weights.sscp.input_proj.cols, 256);
}

TEST(AudioWeights, CheckpointsWithoutAudioTowerAreErrors) {
  auto nested = LoadModel(testing::FixtureDir("tiny-nested"));  // audio_config, no audio tensors
  ASSERT_TRUE(nested.ok()) << nested.status().message();
  EXPECT_NE(BindError(**nested).find("no audio tower"), std::string::npos) << BindError(**nested);
  auto text = LoadModel(testing::FixtureDir("tiny-sharded"));  // text-only config
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_NE(BindError(**text).find("audio_config"), std::string::npos) << BindError(**text);
}

TEST(AudioWeights, WrongShapesDtypesAndConfigsAreErrors) {
  const Loaded& L = TinyAudio();
  ASSERT_TRUE(L.model);
  const std::string q = "model.audio_tower.conformer.1.attention.attn.q_proj.weight";
  auto copy = [&] {
    Model m;
    m.checkpoint = L.model->checkpoint;
    m.config = L.model->config;
    return m;
  };
  {
    Model m = copy();
    m.checkpoint.tensors[q].shape = {32, 31};
    EXPECT_NE(BindError(m).find(q), std::string::npos) << BindError(m);
  }
  {
    Model m = copy();
    m.checkpoint.tensors[q].dtype = DType::I32;
    EXPECT_NE(BindError(m).find("dtype"), std::string::npos) << BindError(m);
  }
  {
    Model m = copy();
    m.checkpoint.tensors.erase("model.embed_audio.embedding_projection.weight");
    EXPECT_NE(BindError(m).find("missing"), std::string::npos) << BindError(m);
  }
  {
    Model m = copy();  // the config says 64 wide, the tensors are 32 wide
    const size_t at = m.checkpoint.config_json.find("\"hidden_size\": 32");
    ASSERT_NE(at, std::string::npos);
    m.checkpoint.config_json.replace(at, 17, "\"hidden_size\": 64");
    EXPECT_NE(BindError(m).find("shape"), std::string::npos) << BindError(m);
  }
  {
    Model m = copy();  // the padding id 511 must be an audio id
    const size_t at = m.checkpoint.config_json.find("\"vocab_offset\": 384");
    ASSERT_NE(at, std::string::npos);
    m.checkpoint.config_json.replace(at, 19, "\"vocab_offset\": 300");
    EXPECT_NE(BindError(m).find("padding id"), std::string::npos) << BindError(m);
  }
  {
    Model m = copy();
    const size_t at = m.checkpoint.config_json.find("\"conf_num_attention_heads\": 4");
    ASSERT_NE(at, std::string::npos);
    m.checkpoint.config_json.replace(at, 29, "\"conf_num_attention_heads\": 5");
    EXPECT_NE(BindError(m).find("conf_num_attention_heads"), std::string::npos) << BindError(m);
  }
}

}  // namespace
}  // namespace g3n
