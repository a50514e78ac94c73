// Opt-in check against the real google/gemma-3n-E2B-it weights: the greedy continuations that
// transformers' own integration tests expect (spec §8). Set GEMMA3N_E2B_IT_DIR to the downloaded
// checkpoint folder; without it the test reports itself skipped.
#include <gtest/gtest.h>

#include <cstdlib>

#include "model/model.h"
#include "model/text_decoder.h"
#include "runtime/generate.h"
#include "tokenizer/tokenizer.h"

namespace g3n {
namespace {

struct Case {
  std::string prompt, expected;
};

TEST(RealWeights, E2BItGreedyContinuationsMatchTransformers) {
  const char* dir = std::getenv("GEMMA3N_E2B_IT_DIR");
  if (dir == nullptr || *dir == '\0')
    GTEST_SKIP() << "set GEMMA3N_E2B_IT_DIR to a google/gemma-3n-E2B-it download to run this check";
  auto model = LoadModel(dir);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto tok = Tokenizer::FromModelDir(dir);
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  ThreadPool pool(0);
  TextDecoder decoder((*model)->config.text, (*model)->weights, &pool);

  std::string scenery;
  for (int i = 0; i < 800; ++i) scenery += "This is a nice place. ";
  scenery += "I really enjoy the scenery,";
  const std::vector<Case> cases = {
      {scenery, " and I think it's a nice place to visit. This is a nice place. This is"},
      {"A list of colors: red, blue", ", green, yellow, orange, purple, pink, brown, black, white.\n\nHere'"},
  };
  for (const Case& c : cases) {
    const std::vector<int32_t> prompt = tok->Encode(c.prompt, /*add_bos=*/true);
    Session s = decoder.NewSession({static_cast<int>(prompt.size()) + 32, 512, KvType::F32});
    GenerateOptions opt;
    opt.max_new_tokens = 20;
    std::vector<int32_t> out;
    ASSERT_TRUE(Generate(decoder, s, prompt, opt, nullptr, &out, nullptr).ok());
    EXPECT_EQ(out.size(), 20u);
    EXPECT_EQ(tok->Decode(out), c.expected) << "prompt of " << prompt.size() << " tokens";
  }
}

}  // namespace
}  // namespace g3n
