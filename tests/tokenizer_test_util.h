// Shared helpers for the tokenizer and chat tests: where the fixtures live, the real Gemma 3
// tokenizer (from ../shared/tokenizer beside the checkout; tests that need it skip when a fresh
// clone elsewhere does not have it), and JSON-lines reading.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace g3n::testing {

inline std::string TokenizerFixtureDir() { return std::string(G3N_FIXTURES_DIR) + "/../tokenizer"; }
inline std::string SharedTokenizerDir() { return std::string(G3N_FIXTURES_DIR) + "/../../../shared/tokenizer"; }

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The real Gemma 3 tokenizer, loaded once per process. The binary cache goes to the temp folder
// (not into ../shared, which CI mounts read-only). nullptr when ../shared/tokenizer is absent.
inline const Tokenizer* SharedTokenizer() {
  static const Tokenizer* tok = [] () -> const Tokenizer* {
    const std::string dir = SharedTokenizerDir();
    if (!std::filesystem::exists(dir + "/tokenizer.json")) return nullptr;
    TokenizerLoadOptions opt;
    opt.cache_path = (std::filesystem::temp_directory_path() / "gemma3n-test-tokenizer.g3ntok").string();
    auto t = Tokenizer::FromModelDir(dir, opt);
    if (!t.ok()) {
      ADD_FAILURE() << t.status().message();
      return nullptr;
    }
    return new Tokenizer(std::move(*t));
  }();
  return tok;
}

#define G3N_SHARED_TOKENIZER_OR_SKIP(var)                                                              \
  const ::g3n::Tokenizer* var = ::g3n::testing::SharedTokenizer();                                     \
  if (var == nullptr)                                                                                  \
    GTEST_SKIP() << "the real tokenizer is not at " << ::g3n::testing::SharedTokenizerDir()            \
                 << "/tokenizer.json (it is in ../shared/tokenizer beside the checkout on CI)";

}  // namespace g3n::testing
