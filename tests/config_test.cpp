// ParseModelConfig: both config.json forms, both RoPE forms, FFN widths, defaults, the KV
// producer map derived from layer_types, and generation_config.json.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "model/config.h"
#include "test_util.h"

namespace g3n {
namespace {

using json = nlohmann::json;

const std::string kSource = "/ckpt/config.json";

// A small valid text config; layer l is global when is_full(l).
json TextJson(int layers, int shared, const std::function<bool(int)>& is_full) {
  json lt = json::array();
  for (int l = 0; l < layers; ++l) lt.push_back(is_full(l) ? "full_attention" : "sliding_attention");
  return {{"model_type", "gemma3n_text"},
          {"hidden_size", 64},
          {"num_hidden_layers", layers},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 2},
          {"head_dim", 16},
          {"vocab_size", 100},
          {"vocab_size_per_layer_input", 50},
          {"hidden_size_per_layer_input", 8},
          {"intermediate_size", 128},
          {"num_kv_shared_layers", shared},
          {"layer_types", lt}};
}

bool EveryFifth(int l) { return (l + 1) % 5 == 0; }

ModelConfig MustParse(const json& cfg, const std::string& gen = "") {
  auto r = ParseModelConfig(cfg.dump(), gen, kSource);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : ModelConfig{};
}

std::string ParseError(const json& cfg, const std::string& gen = "") {
  auto r = ParseModelConfig(cfg.dump(), gen, kSource);
  EXPECT_FALSE(r.ok()) << "config should be rejected: " << cfg.dump();
  return r.ok() ? "" : r.status().message();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Expected KV source of every layer, written out independently of the parser: consumers
// (l >= L - shared) read the last non-shared layer of their own type.
std::vector<int> ExpectedKvSources(int layers, int shared, const std::function<bool(int)>& is_full) {
  std::vector<int> src(layers);
  const int first = layers - shared;
  for (int l = 0; l < layers; ++l) {
    src[l] = l;
    if (l < first) continue;
    for (int p = first - 1; p >= 0; --p)
      if (is_full(p) == is_full(l)) { src[l] = p; break; }
  }
  return src;
}

// --- the two config.json forms

TEST(Config, TextOnlyForm) {
  const ModelConfig mc = MustParse(TextJson(6, 0, EveryFifth));
  EXPECT_FALSE(mc.multimodal);
  EXPECT_EQ(mc.source, kSource);
  EXPECT_EQ(mc.text.hidden_size, 64);
  EXPECT_EQ(mc.text.num_layers, 6);
  EXPECT_EQ(mc.text.num_heads, 4);
  EXPECT_EQ(mc.text.num_kv_heads, 2);
  EXPECT_EQ(mc.text.head_dim, 16);
  EXPECT_EQ(mc.text.vocab_size, 100);
  EXPECT_EQ(mc.text.vocab_size_per_layer_input, 50);
  EXPECT_EQ(mc.text.per_layer_dim, 8);
}

TEST(Config, NestedFormReadsTextConfig) {
  json top = {{"model_type", "gemma3n"},
              {"hidden_size", 999},  // top-level keys of the multimodal config are not the decoder's
              {"text_config", TextJson(6, 0, EveryFifth)},
              {"vision_config", {{"model_type", "gemma3n_vision"}}},
              {"audio_config", {{"model_type", "gemma3n_audio"}}}};
  top["text_config"]["hidden_size"] = 96;
  const ModelConfig mc = MustParse(top);
  EXPECT_TRUE(mc.multimodal);
  EXPECT_EQ(mc.text.hidden_size, 96);
  EXPECT_EQ(mc.text.num_layers, 6);
}

TEST(Config, NestedFormWithoutTowersIsNotMultimodal) {
  const ModelConfig mc = MustParse({{"model_type", "gemma3n"}, {"text_config", TextJson(6, 0, EveryFifth)}});
  EXPECT_FALSE(mc.multimodal);
  EXPECT_EQ(mc.text.num_layers, 6);
}

TEST(Config, NestedErrorsNameTextConfig) {
  json top = {{"model_type", "gemma3n"}, {"text_config", TextJson(6, 0, EveryFifth)}};
  top["text_config"].erase("head_dim");
  const std::string msg = ParseError(top);
  EXPECT_NE(msg.find(kSource + " (text_config)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'head_dim'"), std::string::npos) << msg;
}

TEST(Config, NestedTypeWithoutTextConfigIsRejected) {
  json top = TextJson(6, 0, EveryFifth);
  top["model_type"] = "gemma3n";
  EXPECT_NE(ParseError(top).find("text_config"), std::string::npos);
}

TEST(Config, OtherModelTypeIsRejected) {
  json t = TextJson(6, 0, EveryFifth);
  t["model_type"] = "gemma3_text";
  EXPECT_NE(ParseError(t).find("gemma3_text"), std::string::npos);
}

TEST(Config, FixtureConfigsParse) {
  const std::string nested = ReadFile(testing::FixtureDir("tiny-nested") + "/config.json");
  auto a = ParseModelConfig(nested, "", kSource);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(a->multimodal);
  EXPECT_EQ(a->text.hidden_size, 128);
  EXPECT_EQ(a->text.sliding_window, 16);
  EXPECT_EQ(a->text.laurel_rank, 8);
  EXPECT_EQ(a->text.max_position_embeddings, 512);
  EXPECT_EQ(a->text.intermediate_size, (std::vector<int>{256, 192, 256, 128, 320, 256, 192, 256, 128, 256}));
  // README: layers 6-8 read layer 5's KV, layer 9 reads layer 4's.
  EXPECT_EQ(a->text.kv_source, (std::vector<int>{0, 1, 2, 3, 4, 5, 5, 5, 5, 4}));

  const std::string text_only = ReadFile(testing::FixtureDir("tiny-sharded") + "/config.json");
  auto b = ParseModelConfig(text_only, "", kSource);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_FALSE(b->multimodal);
  EXPECT_EQ(b->text.hidden_size, 96);
  EXPECT_EQ(b->text.num_kv_heads, 1);
  // README: layers 5, 6 read layer 3's KV (layer 4 is the only global layer and owns its cache).
  EXPECT_EQ(b->text.kv_source, (std::vector<int>{0, 1, 2, 3, 4, 3, 3}));
  EXPECT_FLOAT_EQ(b->text.rope_theta_local, 20000.0f);
  EXPECT_FLOAT_EQ(b->text.rope_theta_global, 500000.0f);
}

// --- RoPE

TEST(Config, RopeParametersNewForm) {
  json t = TextJson(5, 0, EveryFifth);
  t["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}, {"rope_theta", 500000.0}}},
                          {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 20000.0}}}};
  const ModelConfig mc = MustParse(t);
  EXPECT_FLOAT_EQ(mc.text.rope_theta_global, 500000.0f);
  EXPECT_FLOAT_EQ(mc.text.rope_theta_local, 20000.0f);
  EXPECT_FLOAT_EQ(mc.text.rope_theta(0), 20000.0f);   // sliding
  EXPECT_FLOAT_EQ(mc.text.rope_theta(4), 500000.0f);  // full
}

TEST(Config, RopeOldForm) {
  json t = TextJson(5, 0, EveryFifth);
  t["rope_theta"] = 123456.0;
  t["rope_local_base_freq"] = 7777.0;
  t["rope_scaling"] = nullptr;
  const ModelConfig mc = MustParse(t);
  EXPECT_FLOAT_EQ(mc.text.rope_theta_global, 123456.0f);
  EXPECT_FLOAT_EQ(mc.text.rope_theta_local, 7777.0f);
  EXPECT_FLOAT_EQ(mc.text.rope_theta(3), 7777.0f);
  EXPECT_FLOAT_EQ(mc.text.rope_theta(4), 123456.0f);
}

TEST(Config, RopeDefaultsWhenAbsent) {
  const ModelConfig mc = MustParse(TextJson(5, 0, EveryFifth));
  EXPECT_FLOAT_EQ(mc.text.rope_theta_global, 1e6f);
  EXPECT_FLOAT_EQ(mc.text.rope_theta_local, 1e4f);
}

TEST(Config, RopeParametersOnlyOneTypeKeepsOtherDefault) {
  json t = TextJson(5, 0, EveryFifth);
  t["rope_parameters"] = {{"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 30000.0}}}};
  const ModelConfig mc = MustParse(t);
  EXPECT_FLOAT_EQ(mc.text.rope_theta_local, 30000.0f);
  EXPECT_FLOAT_EQ(mc.text.rope_theta_global, 1e6f);
}

TEST(Config, RopeScalingOtherThanDefaultIsRejected) {
  json t = TextJson(5, 0, EveryFifth);
  t["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 8.0}};
  EXPECT_NE(ParseError(t).find("linear"), std::string::npos);
  t["rope_scaling"] = {{"rope_type", "default"}};
  MustParse(t);
}

// --- FFN widths, layer types, sparsity, soft-cap

TEST(Config, ScalarIntermediateSizeAppliesToEveryLayer) {
  json t = TextJson(7, 0, EveryFifth);
  t["intermediate_size"] = 2048;
  EXPECT_EQ(MustParse(t).text.intermediate_size, std::vector<int>(7, 2048));
}

TEST(Config, ListIntermediateSizeIsPerLayer) {
  json t = TextJson(4, 0, EveryFifth);
  t["intermediate_size"] = {64, 96, 128, 32};
  EXPECT_EQ(MustParse(t).text.intermediate_size, (std::vector<int>{64, 96, 128, 32}));
}

TEST(Config, SingleEntryListIntermediateSizeBroadcasts) {
  json t = TextJson(3, 0, EveryFifth);
  t["intermediate_size"] = {80};
  EXPECT_EQ(MustParse(t).text.intermediate_size, std::vector<int>(3, 80));
}

TEST(Config, DefaultLayerTypesEveryFifthGlobal) {
  json t = TextJson(12, 0, EveryFifth);
  t.erase("layer_types");
  const ModelConfig mc = MustParse(t);
  ASSERT_EQ(mc.text.layer_types.size(), 12u);
  for (int l = 0; l < 12; ++l)
    EXPECT_EQ(mc.text.layer_types[l], (l == 4 || l == 9) ? LayerType::Full : LayerType::Sliding) << "layer " << l;
}

TEST(Config, ExplicitLayerTypesAreFollowed) {
  const auto pattern = [](int l) { return l == 0 || l == 2; };
  const ModelConfig mc = MustParse(TextJson(4, 0, pattern));
  EXPECT_EQ(mc.text.layer_types,
            (std::vector<LayerType>{LayerType::Full, LayerType::Sliding, LayerType::Full, LayerType::Sliding}));
}

TEST(Config, DefaultSparsityFirstTenLayersOfDeepModels) {
  json t = TextJson(30, 0, EveryFifth);
  const ModelConfig deep = MustParse(t);
  ASSERT_EQ(deep.text.activation_sparsity.size(), 30u);
  for (int l = 0; l < 30; ++l) EXPECT_FLOAT_EQ(deep.text.activation_sparsity[l], l < 10 ? 0.95f : 0.0f) << l;

  const ModelConfig shallow = MustParse(TextJson(10, 0, EveryFifth));  // transformers: no sparse layers
  EXPECT_EQ(shallow.text.activation_sparsity, std::vector<float>(10, 0.0f));
}

TEST(Config, ExplicitSparsityScalarAndList) {
  json t = TextJson(4, 0, EveryFifth);
  t["activation_sparsity_pattern"] = 0.5;
  EXPECT_EQ(MustParse(t).text.activation_sparsity, std::vector<float>(4, 0.5f));
  t["activation_sparsity_pattern"] = {0.95, 0.0, 0.9, 0.0};
  EXPECT_EQ(MustParse(t).text.activation_sparsity, (std::vector<float>{0.95f, 0.0f, 0.9f, 0.0f}));
  t["activation_sparsity_pattern"] = {0.95, 0.0};
  EXPECT_NE(ParseError(t).find("activation_sparsity_pattern"), std::string::npos);
}

TEST(Config, FinalSoftcap) {
  json t = TextJson(4, 0, EveryFifth);
  EXPECT_FLOAT_EQ(MustParse(t).text.final_logit_softcap, 30.0f);  // Gemma 3n default
  t["final_logit_softcapping"] = 15.0;
  EXPECT_FLOAT_EQ(MustParse(t).text.final_logit_softcap, 15.0f);
  t["final_logit_softcapping"] = nullptr;
  EXPECT_FLOAT_EQ(MustParse(t).text.final_logit_softcap, 0.0f);
}

TEST(Config, OptionalScalarsAndDefaults) {
  json t = TextJson(4, 0, EveryFifth);
  ModelConfig mc = MustParse(t);
  EXPECT_EQ(mc.text.sliding_window, 512);
  EXPECT_EQ(mc.text.laurel_rank, 64);
  EXPECT_EQ(mc.text.altup_num_inputs, 4);
  EXPECT_TRUE(mc.text.altup_correct_scale);
  t["sliding_window"] = 33;
  t["laurel_rank"] = 12;
  t["altup_num_inputs"] = 3;
  t["altup_active_idx"] = 2;
  t["altup_correct_scale"] = false;
  t["altup_coef_clip"] = nullptr;  // null keeps the default
  t["rms_norm_eps"] = 1e-5;
  mc = MustParse(t);
  EXPECT_EQ(mc.text.sliding_window, 33);
  EXPECT_EQ(mc.text.laurel_rank, 12);
  EXPECT_EQ(mc.text.altup_num_inputs, 3);
  EXPECT_EQ(mc.text.altup_active_idx, 2);
  EXPECT_FALSE(mc.text.altup_correct_scale);
  EXPECT_FLOAT_EQ(mc.text.altup_coef_clip, 120.0f);
  EXPECT_FLOAT_EQ(mc.text.rms_norm_eps, 1e-5f);
}

// --- KV producer map

void ExpectKvMap(const ModelConfig& mc, int layers, int shared, const std::function<bool(int)>& is_full) {
  const TextConfig& c = mc.text;
  ASSERT_EQ(c.num_layers, layers);
  EXPECT_EQ(c.first_kv_shared, layers - shared);
  EXPECT_EQ(c.kv_source, ExpectedKvSources(layers, shared, is_full));
  for (int l = 0; l < layers; ++l) EXPECT_EQ(c.is_kv_consumer(l), l >= layers - shared) << "layer " << l;
}

TEST(Config, KvMapE2BLike) {
  const ModelConfig mc = MustParse(TextJson(30, 10, EveryFifth));
  ExpectKvMap(mc, 30, 10, EveryFifth);
  // Spelled out: layers 20..29 read 18 (sliding) or 19 (full: 24, 29).
  for (int l = 20; l < 30; ++l) EXPECT_EQ(mc.text.kv_source[l], (l == 24 || l == 29) ? 19 : 18) << l;
  for (int l = 0; l < 20; ++l) EXPECT_EQ(mc.text.kv_source[l], l);
}

TEST(Config, KvMapE2BLikeWithDefaultLayerTypes) {
  json t = TextJson(30, 10, EveryFifth);
  t.erase("layer_types");
  ExpectKvMap(MustParse(t), 30, 10, EveryFifth);
}

TEST(Config, KvMapE4BLike) {
  const ModelConfig mc = MustParse(TextJson(35, 15, EveryFifth));
  ExpectKvMap(mc, 35, 15, EveryFifth);
  for (int l = 20; l < 35; ++l) EXPECT_EQ(mc.text.kv_source[l], (l % 5 == 4) ? 19 : 18) << l;
}

TEST(Config, KvMapOddPattern) {
  // Every third layer global (2, 5, 8, 11); 3 shared: 9, 10 -> 7 (sliding), 11 -> 8 (full).
  const auto every_third = [](int l) { return l % 3 == 2; };
  const ModelConfig mc = MustParse(TextJson(12, 3, every_third));
  ExpectKvMap(mc, 12, 3, every_third);
  EXPECT_EQ(mc.text.kv_source[9], 7);
  EXPECT_EQ(mc.text.kv_source[10], 7);
  EXPECT_EQ(mc.text.kv_source[11], 8);
}

TEST(Config, KvMapProducerFarBack) {
  // Only layers 0 and 7 are global: the consumer 7 reads layer 0, the sliding consumers layer 5.
  const auto ends = [](int l) { return l == 0 || l == 7; };
  const ModelConfig mc = MustParse(TextJson(8, 2, ends));
  ExpectKvMap(mc, 8, 2, ends);
  EXPECT_EQ(mc.text.kv_source[6], 5);
  EXPECT_EQ(mc.text.kv_source[7], 0);
}

TEST(Config, KvMapWithoutSharing) {
  const ModelConfig mc = MustParse(TextJson(6, 0, EveryFifth));
  EXPECT_EQ(mc.text.first_kv_shared, 6);
  EXPECT_EQ(mc.text.kv_source, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(Config, KvConsumerWithoutProducerIsRejected) {
  // The only global layer is a consumer: no earlier layer owns a global cache.
  const std::string msg = ParseError(TextJson(6, 2, [](int l) { return l == 5; }));
  EXPECT_NE(msg.find("layer 5"), std::string::npos) << msg;
}

TEST(Config, DeriveKvRolesRecomputes) {
  ModelConfig mc = MustParse(TextJson(6, 2, [](int l) { return l == 2 || l == 5; }));
  EXPECT_EQ(mc.text.kv_source, (std::vector<int>{0, 1, 2, 3, 3, 2}));
  mc.text.layer_types[3] = LayerType::Full;
  ASSERT_TRUE(DeriveKvRoles(mc.text, kSource).ok());
  EXPECT_EQ(mc.text.kv_source, (std::vector<int>{0, 1, 2, 3, 1, 3}));
  mc.text.num_kv_shared_layers = 6;
  EXPECT_FALSE(DeriveKvRoles(mc.text, kSource).ok());
}

// The replica configs of the real models (tools/replica_configs, copied from the released
// E2B / E4B config.json text sections).
TEST(Config, KvMapRealE2BAndE4BConfigs) {
  const std::string dir = std::string(G3N_FIXTURES_DIR) + "/../../tools/replica_configs/";
  for (const auto& [file, layers, shared] : {std::tuple<const char*, int, int>{"e2b.json", 30, 10},
                                             std::tuple<const char*, int, int>{"e4b.json", 35, 15}}) {
    SCOPED_TRACE(file);
    auto r = ParseModelConfig(ReadFile(dir + file), "", dir + file);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ExpectKvMap(*r, layers, shared, EveryFifth);
    EXPECT_EQ(r->text.kv_source[layers - 1], 19);
    EXPECT_EQ(r->text.kv_source[layers - 2], 18);
    EXPECT_FLOAT_EQ(r->text.rope_theta_global, 1e6f);
    EXPECT_FLOAT_EQ(r->text.rope_theta_local, 1e4f);
    EXPECT_EQ(r->text.sliding_window, 512);
  }
}

// --- generation_config.json

TEST(Config, GenerationDefaultsWithoutFile) {
  const GenerationConfig g = MustParse(TextJson(4, 0, EveryFifth)).generation;
  EXPECT_FALSE(g.do_sample);
  EXPECT_EQ(g.top_k, 0);
  EXPECT_FLOAT_EQ(g.top_p, 1.0f);
  EXPECT_FLOAT_EQ(g.temperature, 1.0f);
  EXPECT_EQ(g.eos_token_ids, std::vector<int>{1});
}

TEST(Config, GenerationEosAsInt) {
  const GenerationConfig g = MustParse(TextJson(4, 0, EveryFifth), R"({"eos_token_id": 106})").generation;
  EXPECT_EQ(g.eos_token_ids, std::vector<int>{106});
}

TEST(Config, GenerationEosAsList) {
  const GenerationConfig g = MustParse(TextJson(4, 0, EveryFifth), R"({"eos_token_id": [1, 106]})").generation;
  EXPECT_EQ(g.eos_token_ids, (std::vector<int>{1, 106}));
}

TEST(Config, EosFromConfigJsonUnlessGenerationConfigSetsIt) {
  json t = TextJson(4, 0, EveryFifth);
  t["eos_token_id"] = json::array({7, 8});
  EXPECT_EQ(MustParse(t).generation.eos_token_ids, (std::vector<int>{7, 8}));
  EXPECT_EQ(MustParse(t, R"({"do_sample": false})").generation.eos_token_ids, (std::vector<int>{7, 8}));
  EXPECT_EQ(MustParse(t, R"({"eos_token_id": 9})").generation.eos_token_ids, std::vector<int>{9});
}

TEST(Config, GenerationSamplingKeys) {
  const GenerationConfig g =
      MustParse(TextJson(4, 0, EveryFifth),
                R"({"do_sample": true, "top_k": 64, "top_p": 0.95, "temperature": 0.7, "min_p": 0.05,
                    "repetition_penalty": 1.1, "bos_token_id": 5, "pad_token_id": 6})")
          .generation;
  EXPECT_TRUE(g.do_sample);
  EXPECT_EQ(g.top_k, 64);
  EXPECT_FLOAT_EQ(g.top_p, 0.95f);
  EXPECT_FLOAT_EQ(g.temperature, 0.7f);
  EXPECT_FLOAT_EQ(g.min_p, 0.05f);
  EXPECT_FLOAT_EQ(g.repetition_penalty, 1.1f);
  EXPECT_EQ(g.bos_token_id, 5);
  EXPECT_EQ(g.pad_token_id, 6);
}

TEST(Config, GenerationFixture) {
  const std::string gen = ReadFile(testing::FixtureDir("tiny-nested") + "/generation_config.json");
  const GenerationConfig g = MustParse(TextJson(4, 0, EveryFifth), gen).generation;
  EXPECT_TRUE(g.do_sample);
  EXPECT_EQ(g.top_k, 64);
  EXPECT_FLOAT_EQ(g.top_p, 0.95f);
  EXPECT_EQ(g.eos_token_ids, (std::vector<int>{1, 106}));
}

TEST(Config, GenerationErrorsNameGenerationConfig) {
  const std::string msg = ParseError(TextJson(4, 0, EveryFifth), R"({"top_k": "many"})");
  EXPECT_NE(msg.find("/ckpt/generation_config.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'top_k'"), std::string::npos) << msg;
  EXPECT_NE(ParseError(TextJson(4, 0, EveryFifth), "{").find("/ckpt/generation_config.json"), std::string::npos);
}

}  // namespace
}  // namespace g3n
