// MatFormer sub-models per session through the C API: one load of the tiny E4B-like fixture
// serves sessions on different sub-models, each following transformers' logits for that slice
// (tests/fixtures/matformer), alone and side by side on two threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "gemma3n.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace g3n {
namespace {

std::string Dir(const std::string& name) { return testing::FixtureDir("matformer/" + name); }

struct Reference {
  std::vector<int32_t> ids;
  std::vector<int> argmax;  // per position
};

Reference LoadReference(const std::string& config) {
  Reference ref;
  auto r = OpenSafetensors(Dir(config) + "/reference.safetensors");
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return ref;
  ref.ids = testing::ToInts(r->tensors.at("input_ids"));
  const std::vector<float> logits = testing::ToFloats(r->tensors.at("prefill_logits"));
  const int V = static_cast<int>(logits.size() / ref.ids.size());
  for (size_t t = 0; t < ref.ids.size(); ++t) ref.argmax.push_back(testing::Argmax(logits.data() + t * V, V));
  return ref;
}

class SubModelSessions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g3n_model_options o;
    g3n_model_options_init(&o);
    o.threads = 2;
    o.context = 64;
    o.kv_type = "f32";
    ASSERT_EQ(g3n_model_load(Dir("e4b-like").c_str(), &o, &model_), G3N_OK) << g3n_last_error();
  }
  static void TearDownTestSuite() {
    g3n_model_free(model_);
    model_ = nullptr;
  }

  // The greedy next id after every prefix of `ids`, from one session on `sub_model`: the
  // session is cut back (g3n_session_truncate) and one id sampled, for each prefix.
  static std::vector<int> NextIds(const char* sub_model, const std::vector<int32_t>& ids) {
    g3n_session_options so;
    g3n_session_options_init(&so);
    so.sub_model = sub_model;
    g3n_session* s = nullptr;
    EXPECT_EQ(g3n_session_create_ex(model_, &so, &s), G3N_OK) << g3n_last_error();
    if (s == nullptr) return {};
    g3n_generate_options go;
    g3n_generate_options_init(model_, &go);
    go.greedy = 1;
    go.max_new_tokens = 1;
    go.ignore_eos = 1;
    std::vector<int> out;
    for (size_t t = 0; t < ids.size(); ++t) {
      int32_t got = -1;
      auto keep = [](void* u, int32_t id, const char*, size_t) {
        if (id >= 0) *static_cast<int32_t*>(u) = id;
        return 0;
      };
      EXPECT_EQ(g3n_session_truncate(s, 0), G3N_OK);
      EXPECT_EQ(g3n_session_add_tokens(s, ids.data(), t + 1), G3N_OK);
      EXPECT_EQ(g3n_session_generate(s, &go, keep, &got, nullptr), G3N_OK) << g3n_last_error();
      out.push_back(got);
    }
    g3n_session_free(s);
    return out;
  }

  static g3n_model* model_;
};

g3n_model* SubModelSessions::model_ = nullptr;

TEST_F(SubModelSessions, ListsThePublishedSubModels) {
  std::vector<std::string> names;
  for (size_t i = 0; const char* n = g3n_model_sub_model_name(model_, i); ++i) names.emplace_back(n);
  ASSERT_EQ(names.size(), 16u);
  EXPECT_EQ(names.front(), "E4B");
  EXPECT_NE(std::find(names.begin(), names.end(), "E2B"), names.end());
  g3n_model_info info{};
  ASSERT_EQ(g3n_model_get_info(model_, &info), G3N_OK);
  EXPECT_STREQ(info.sub_model, "");
  EXPECT_EQ(info.default_layers, 35);
}

TEST_F(SubModelSessions, EachSessionFollowsItsSlicesReference) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"e4b", ""}, {"e2b", "E2B"}, {"e2.98b-layer", "e2.98b-layer"}, {"e1.96b-layer", "E1.96B-layer"},
      {"custom", Dir("custom") + "/spec.json"}};
  for (const auto& [fixture, choice] : cases) {
    const Reference ref = LoadReference(fixture);
    EXPECT_EQ(NextIds(choice.c_str(), ref.ids), ref.argmax) << fixture << " as '" << choice << "'";
  }
}

TEST_F(SubModelSessions, DifferentSubModelsRunSideBySide) {
  const Reference e2b = LoadReference("e2b"), full = LoadReference("e4b");
  std::vector<int> got_e2b, got_full;
  std::thread a([&] { got_e2b = NextIds("E2B", e2b.ids); });
  std::thread b([&] { got_full = NextIds(nullptr, full.ids); });
  a.join();
  b.join();
  EXPECT_EQ(got_e2b, e2b.argmax);
  EXPECT_EQ(got_full, full.argmax);
}

TEST_F(SubModelSessions, DefaultSubModelFromModelOptions) {
  g3n_model_options o;
  g3n_model_options_init(&o);
  o.threads = 1;
  o.context = 64;
  o.kv_type = "f32";
  o.sub_model = "e2b";
  g3n_model* m = nullptr;
  ASSERT_EQ(g3n_model_load(Dir("e4b-like").c_str(), &o, &m), G3N_OK) << g3n_last_error();
  g3n_model_info info{};
  ASSERT_EQ(g3n_model_get_info(m, &info), G3N_OK);
  EXPECT_STREQ(info.sub_model, "E2B");
  EXPECT_EQ(info.default_layers, 30);
  g3n_model_free(m);
}

TEST_F(SubModelSessions, InvalidChoicesAreRefused) {
  g3n_session_options so;
  g3n_session_options_init(&so);
  g3n_session* s = nullptr;
  for (const char* bad : {"E9B", "/no/such/spec.json"}) {
    so.sub_model = bad;
    EXPECT_EQ(g3n_session_create_ex(model_, &so, &s), G3N_ERR_INVALID_ARGUMENT) << bad;
    EXPECT_EQ(s, nullptr);
    EXPECT_NE(std::string(g3n_last_error()).find(bad), std::string::npos) << g3n_last_error();
  }
  // A model that is not E4B-shaped has no published sub-models.
  g3n_model* small = nullptr;
  ASSERT_EQ(g3n_model_load(testing::FixtureDir("tiny-nested").c_str(), nullptr, &small), G3N_OK);
  EXPECT_EQ(g3n_model_sub_model_name(small, 0), nullptr);
  so.sub_model = "E2B";
  EXPECT_EQ(g3n_session_create_ex(small, &so, &s), G3N_ERR_INVALID_ARGUMENT);
  g3n_model_free(small);
  g3n_model_options o;
  g3n_model_options_init(&o);
  o.sub_model = "E2B";
  g3n_model* m = nullptr;
  EXPECT_EQ(g3n_model_load(testing::FixtureDir("tiny-nested").c_str(), &o, &m), G3N_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(m, nullptr);
}

}  // namespace
}  // namespace g3n
