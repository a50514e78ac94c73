// Tokenizer tests. The Synthetic/Utf8/Cache/Errors suites run everywhere on a small tokenizer
// made here; the Parity suites compare with HF `tokenizers` on the real Gemma 3 tokenizer.json
// (expected outputs in tests/tokenizer/, written by tools/make_tokenizer_fixtures.py).
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tokenizer/gemma3n_tokens.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/tokenizer_cache.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"
#include "util/sysinfo.h"

namespace g3n {
namespace {

using nlohmann::json;
using testing::ReadJsonLines;
using testing::TokenizerFixtureDir;

// ----------------------------------------------------------------------------- a small tokenizer

constexpr int kByte0 = 4;  // <0x00> .. <0xFF> are ids 4..259

json SyntheticJson() {
  json vocab = {{"<pad>", 0}, {"<eos>", 1}, {"<bos>", 2}, {"<unk>", 3}};
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[name] = kByte0 + b;
  }
  int id = 260;
  for (const char* p : {"\xE2\x96\x81", "a", "b", "c", "h", "i", "ab", "abc", "\xE2\x96\x81" "a",
                        "\xE2\x96\x81" "ab", "hi", "\xE2\x96\x81\xE2\x96\x81", "<x>", "\n", "\n\n"})
    vocab[p] = id++;
  json merges = json::array({json::array({"a", "b"}), json::array({"ab", "c"}),
                             json::array({"\xE2\x96\x81", "a"}), json::array({"\xE2\x96\x81", "ab"}),
                             json::array({"h", "i"}), json::array({"\xE2\x96\x81", "\xE2\x96\x81"})});
  const auto added = [](int i, const char* c, bool special) {
    return json{{"id", i},           {"content", c},     {"single_word", false}, {"lstrip", false},
                {"rstrip", false},   {"normalized", false}, {"special", special}};
  };
  return json{
      {"version", "1.0"},
      {"added_tokens", json::array({added(0, "<pad>", true), added(1, "<eos>", true), added(2, "<bos>", true),
                                    added(3, "<unk>", true), added(272, "<x>", false), added(273, "\n", false),
                                    added(274, "\n\n", false), added(275, "<x><y>", true)})},
      {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}},
      {"pre_tokenizer",
       {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"}, {"invert", false}}},
      {"post_processor", nullptr},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                                  {{"type", "ByteFallback"}},
                                  {{"type", "Fuse"}}})}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", "<unk>"}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", true}, {"byte_fallback", true}, {"ignore_merges", false},
        {"vocab", vocab}, {"merges", merges}}}};
}

const json kSyntheticConfig = {{"add_bos_token", true}, {"add_eos_token", false}, {"bos_token", "<bos>"}};

// A fresh temp folder per test.
std::string TempDir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("g3n-tok-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

Tokenizer Synthetic() {
  auto spec = ParseTokenizerJson(SyntheticJson().dump(), kSyntheticConfig.dump(), "synthetic");
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  auto t = Tokenizer::FromSpec(std::move(*spec));
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::move(*t);
}

TEST(TokenizerSynthetic, BpeMergesByRankAndCutsAtSpaces) {
  const Tokenizer t = Synthetic();
  EXPECT_EQ(t.Encode("abc ab", false), (std::vector<int32_t>{267, 269}));  // abc ▁ab
  // "hi▁▁a": (▁,a) has a lower rank than (▁,▁), so ▁ + ▁a, not ▁▁ + a.
  EXPECT_EQ(t.Encode("hi  a", false), (std::vector<int32_t>{270, 260, 268}));
  EXPECT_EQ(t.Encode("abc ab", true).front(), 2);
  EXPECT_EQ(t.Encode("", true), std::vector<int32_t>{2});
  EXPECT_TRUE(t.Encode("", false).empty());
}

TEST(TokenizerSynthetic, ByteFallbackAndAddedTokens) {
  const Tokenizer t = Synthetic();
  EXPECT_EQ(t.Encode("\xC3\xA9", false), (std::vector<int32_t>{kByte0 + 0xC3, kByte0 + 0xA9}));  // é
  // Leftmost-longest: "<x><y>" beats "<x>", and added tokens cut the text before BPE.
  EXPECT_EQ(t.Encode("a<x><y>z<x>b", false),
            (std::vector<int32_t>{261, 275, kByte0 + 'z', 272, 262}));
  EXPECT_EQ(t.Encode("a\n\n\nb", false), (std::vector<int32_t>{261, 274, 273, 262}));
  EXPECT_EQ(t.TokenId("<x><y>"), 275);
  EXPECT_EQ(t.TokenId("nope"), -1);
  EXPECT_EQ(t.Piece(269), "\xE2\x96\x81" "ab");
  EXPECT_EQ(t.Piece(100000), "");
}

TEST(TokenizerSynthetic, DecodeJoinsBytesAndReplacesBadRuns) {
  const Tokenizer t = Synthetic();
  EXPECT_EQ(t.Decode({2, 269, kByte0 + 0xC3, kByte0 + 0xA9, 273}), "<bos> ab\xC3\xA9\n");
  EXPECT_EQ(t.Decode({2, 269, 275}, /*skip_special=*/true), " ab");
  EXPECT_EQ(t.Decode({kByte0 + 0xE4, kByte0 + 0xBD, kByte0 + 0xA0}), "\xE4\xBD\xA0");
  // A run that is not valid UTF-8 becomes one U+FFFD per byte, valid prefix included (HF).
  EXPECT_EQ(t.Decode({kByte0 + 'o', kByte0 + 0xC3, 261}), "\xEF\xBF\xBD\xEF\xBF\xBD" "a");
  EXPECT_EQ(t.Decode({-5, 999999, 261}), "a");  // unknown ids are dropped
}

TEST(TokenizerSynthetic, StreamingHoldsByteRunsUntilTheyEnd) {
  const Tokenizer t = Synthetic();
  StreamingDecoder s(t);
  EXPECT_EQ(s.Push(261), "a");
  EXPECT_EQ(s.Push(kByte0 + 0xE4), "");
  EXPECT_EQ(s.Push(kByte0 + 0xBD), "");
  EXPECT_EQ(s.Push(kByte0 + 0xA0), "");
  EXPECT_TRUE(s.has_pending());
  EXPECT_EQ(s.Push(269), "\xE4\xBD\xA0 ab");
  EXPECT_EQ(s.Push(kByte0 + 0xE4), "");
  EXPECT_EQ(s.Flush(), "\xEF\xBF\xBD");
}

TEST(TokenizerSynthetic, WithSpecialTokensRenamesAndExtends) {
  const Tokenizer t = Synthetic();
  auto v = t.WithSpecialTokens({{263, "<c_renamed>", true}, {300, "<far>", true}, {301, "<x>", true}});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->vocab_size(), 302);
  EXPECT_EQ(v->Piece(263), "<c_renamed>");
  EXPECT_EQ(v->TokenId("<c_renamed>"), 263);
  EXPECT_EQ(v->TokenId("<x>"), 301);  // the old added "<x>" (272) is replaced
  EXPECT_EQ(v->Encode("a<far>c<x>", false), (std::vector<int32_t>{261, 300, kByte0 + 'c', 301}));
  EXPECT_EQ(v->Decode({300, 263}), "<far><c_renamed>");
}

// ----------------------------------------------------------------------------- UTF-8

TEST(TokenizerUtf8, SanitizeMatchesPythonReplace) {
  // Expected values are Python's bytes.decode("utf-8", errors="replace").
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8::Sanitize("\xE4\xBD"), r);
  EXPECT_EQ(utf8::Sanitize("\xC0\x80"), r + r);
  EXPECT_EQ(utf8::Sanitize("\xED\xA0\x80"), r + r + r);
  EXPECT_EQ(utf8::Sanitize("\xF4\x90\x80\x80"), r + r + r + r);
  EXPECT_EQ(utf8::Sanitize("\xF0\x9F\x98"), r);
  EXPECT_EQ(utf8::Sanitize("a\x80" "b"), "a" + r + "b");
  EXPECT_EQ(utf8::Sanitize("\xF0\x9F\x98x\xE2\x82"), r + "x" + r);
  EXPECT_EQ(utf8::Sanitize("\xE0\x9F\xBF"), r + r + r);
  EXPECT_EQ(utf8::Sanitize("\xEF\xBF\xBF"), "\xEF\xBF\xBF");  // U+FFFF is valid
  EXPECT_TRUE(utf8::IsValid("h\xC3\xA9\xF0\x9F\x98\x80"));
  EXPECT_FALSE(utf8::IsValid("\xF5\x80\x80\x80"));
}

TEST(TokenizerUtf8, InvalidInputEncodesAsItsRepair) {
  const Tokenizer t = Synthetic();
  const std::string bad = "ab\xC3 \xFF\xE4\xBD";
  EXPECT_EQ(t.Encode(bad, false), t.Encode(utf8::Sanitize(bad), false));
}

// ----------------------------------------------------------------------------- bad input

TEST(TokenizerErrors, MissingAndMalformedFiles) {
  const std::string dir = TempDir("errors");
  auto missing = Tokenizer::FromModelDir(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("tokenizer.json"), std::string::npos) << missing.status().message();

  WriteFile(dir + "/tokenizer.json", "{\"model\": [1, 2");
  auto malformed = Tokenizer::FromModelDir(dir);
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.status().message().find("not a valid JSON"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(TokenizerErrors, UnsupportedPipelinesAreNamed) {
  const auto fails_with = [](json j, const std::string& config, const std::string& needle) {
    auto r = ParseTokenizerJson(j.dump(), config, "t.json");
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  json j = SyntheticJson();
  j["normalizer"] = {{"type", "NFKC"}};
  fails_with(j, "", "unsupported normalizer");
  j = SyntheticJson();
  j["pre_tokenizer"] = {{"type", "ByteLevel"}};
  fails_with(j, "", "unsupported pre_tokenizer");
  j = SyntheticJson();
  j["decoder"] = {{"type", "ByteLevel"}};
  fails_with(j, "", "unsupported decoder");
  j = SyntheticJson();
  j["model"]["type"] = "WordPiece";
  fails_with(j, "", "BPE");
  j = SyntheticJson();
  j["model"]["merges"].push_back(json::array({"a", "zz"}));
  fails_with(j, "", "not in the vocabulary");
  j = SyntheticJson();
  j["added_tokens"][4]["lstrip"] = true;
  fails_with(j, "", "lstrip=true");
  fails_with(SyntheticJson(), R"({"add_bos_token": true, "bos_token": "<nope>"})", "'<nope>' is not in the vocabulary");
  fails_with(SyntheticJson(), R"({"add_eos_token": true})", "add_eos_token");
  fails_with(SyntheticJson(), "[not json", "tokenizer_config.json");
  j = SyntheticJson();
  j["model"]["unk_token"] = nullptr;
  j["model"]["vocab"].erase("<0x41>");
  fails_with(j, "", "byte_fallback");
}

// ----------------------------------------------------------------------------- binary cache

TEST(TokenizerCache, RebuildsWhenTheSourceChanges) {
  const std::string dir = TempDir("cache");
  const std::string tj = dir + "/tokenizer.json", tc = dir + "/tokenizer_config.json";
  WriteFile(tj, SyntheticJson().dump(1));
  WriteFile(tc, kSyntheticConfig.dump());
  TokenizerLoadOptions opt;
  opt.min_cache_source_bytes = 0;  // the synthetic file is tiny
  const auto load = [&](TokenizerLoadInfo* info) {
    auto t = Tokenizer::FromModelDir(dir, opt, info);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? t->Encode("abc ab", true) : std::vector<int32_t>{};
  };
  TokenizerLoadInfo info;
  const std::vector<int32_t> want{2, 267, 269};
  EXPECT_EQ(load(&info), want);
  EXPECT_FALSE(info.from_cache);
  EXPECT_TRUE(info.cache_written);
  EXPECT_EQ(info.cache_path, dir + "/tokenizer.g3ntok");
  EXPECT_EQ(load(&info), want);
  EXPECT_TRUE(info.from_cache);

  // The config changes: add_bos flips, and the cache must not serve the old value.
  WriteFile(tc, R"({"add_bos_token": false, "bos_token": "<bos>"})");
  auto t = Tokenizer::FromModelDir(dir, opt, &info);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(info.from_cache);
  EXPECT_FALSE(t->add_bos());
  EXPECT_EQ(load(&info), want);  // Encode(text, true) still asks for <bos> explicitly
  EXPECT_TRUE(info.from_cache);

  // Same size and the old mtime, different bytes: the edge hash notices.
  struct stat before {};
  ASSERT_EQ(::stat(tj.c_str(), &before), 0);
  json j = SyntheticJson();
  j["model"]["merges"][0] = json::array({"h", "i"});  // same length, different first merge
  j["model"]["merges"][4] = json::array({"a", "b"});
  std::string text = j.dump(1);
  ASSERT_EQ(text.size(), static_cast<size_t>(before.st_size));
  WriteFile(tj, text);
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, tj.c_str(), times, 0), 0);
  const std::vector<int32_t> reranked{2, 267, 268, 262};  // (▁,a) now outranks (a,b)
  EXPECT_EQ(load(&info), reranked);
  EXPECT_FALSE(info.from_cache);

  // A damaged cache is ignored and rewritten.
  {
    std::fstream f(dir + "/tokenizer.g3ntok", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('\x7F');
  }
  EXPECT_EQ(load(&info), reranked);
  EXPECT_FALSE(info.from_cache);
  EXPECT_TRUE(info.cache_written);
  EXPECT_EQ(load(&info), reranked);
  EXPECT_TRUE(info.from_cache);

  // Without the cache, or below the size threshold, nothing is read or written.
  TokenizerLoadOptions off = opt;
  off.use_cache = false;
  ASSERT_TRUE(Tokenizer::FromModelDir(dir, off, &info).ok());
  EXPECT_FALSE(info.from_cache);
  EXPECT_FALSE(info.cache_written);
  ASSERT_TRUE(Tokenizer::FromModelDir(dir, {}, &info).ok());
  EXPECT_FALSE(info.from_cache);
  EXPECT_FALSE(info.cache_written);
  std::filesystem::remove_all(dir);
}

// The tokenizer for the tiny fixture models: no byte fallback, so unknown characters become
// one fused <unk> per run, as HF does.
TEST(TokenizerTiny, MatchesHuggingFace) {
  auto t = Tokenizer::FromModelDir(TokenizerFixtureDir() + "/tiny");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_FALSE(std::filesystem::exists(TokenizerFixtureDir() + "/tiny/tokenizer.g3ntok"));
  const json cases = json::parse(testing::ReadFileOrDie(TokenizerFixtureDir() + "/tiny_cases.json"));
  ASSERT_GT(cases.size(), 5u);
  for (const json& c : cases)
    EXPECT_EQ(t->Encode(c["text"].get<std::string>(), false), c["ids"].get<std::vector<int32_t>>()) << c["text"];
  EXPECT_LT(t->vocab_size(), 320);  // fits every fixture model
  EXPECT_EQ(t->TokenId("<end_of_turn>"), 106);
}

// ----------------------------------------------------------------------------- parity with HF

struct CorpusRecord {
  std::string name;
  std::string bytes;  // the raw input (invalid UTF-8 for "hex" records)
  bool valid = true;
};

std::vector<CorpusRecord> Corpus() {
  std::vector<CorpusRecord> out;
  for (const json& r : ReadJsonLines(TokenizerFixtureDir() + "/corpus.jsonl")) {
    CorpusRecord c;
    c.name = r["name"];
    if (r.contains("hex")) {
      const std::string hex = r["hex"];
      for (size_t i = 0; i + 1 < hex.size(); i += 2) c.bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
      c.valid = false;
    } else {
      c.bytes = r["text"];
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string Pieces(const Tokenizer& t, const std::vector<int32_t>& ids, size_t from, size_t n) {
  std::string s;
  for (size_t i = from; i < ids.size() && i < from + n; ++i) {
    s += '[';
    s += t.Piece(ids[i]);
    s += ']';
  }
  return s;
}

TEST(TokenizerParity, CorpusIdsMatchHuggingFace) {
  G3N_SHARED_TOKENIZER_OR_SKIP(tok);
  const auto corpus = Corpus();
  const auto expected = ReadJsonLines(TokenizerFixtureDir() + "/expected_ids.jsonl");
  ASSERT_EQ(corpus.size(), expected.size());
  ASSERT_GT(corpus.size(), 500u);
  size_t bad = 0, tokens = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    ASSERT_EQ(corpus[i].name, expected[i]["name"].get<std::string>());
    const std::vector<int32_t> want = expected[i]["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> got = tok->Encode(corpus[i].bytes, false);
    tokens += want.size();
    if (got == want) continue;
    size_t d = 0;
    while (d < got.size() && d < want.size() && got[d] == want[d]) ++d;
    if (++bad <= 5)
      ADD_FAILURE() << corpus[i].name << ": first difference at token " << d << "\n  want "
                    << Pieces(*tok, want, d, 6) << "\n  got  " << Pieces(*tok, got, d, 6);
  }
  EXPECT_EQ(bad, 0u) << "records whose ids differ, of " << corpus.size() << " (" << tokens << " tokens)";
}

TEST(TokenizerParity, DecodeOfEncodeIsIdentityOnValidText) {
  G3N_SHARED_TOKENIZER_OR_SKIP(tok);
  size_t checked = 0;
  for (const CorpusRecord& r : Corpus()) {
    // A literal U+2581 in the input is the tokenizer's own space mark and decodes as ' ' (as in HF).
    if (!r.valid || r.bytes.find("\xE2\x96\x81") != std::string::npos) continue;
    const std::vector<int32_t> ids = tok->Encode(r.bytes, false);
    EXPECT_EQ(tok->Decode(ids), r.bytes) << r.name;
    // Skipping special tokens drops only <bos> when the text spells no special token itself.
    if (std::none_of(ids.begin(), ids.end(), [&](int32_t id) { return tok->IsSpecial(id); })) {
      EXPECT_EQ(tok->Decode(tok->Encode(r.bytes, true), /*skip_special=*/true), r.bytes) << r.name;
    }
    ++checked;
  }
  EXPECT_GT(checked, 500u);
}

TEST(TokenizerParity, InvalidUtf8EncodesAsPythonReplace) {
  G3N_SHARED_TOKENIZER_OR_SKIP(tok);
  size_t checked = 0;
  for (const CorpusRecord& r : Corpus()) {
    if (r.valid) continue;
    const std::string repaired = utf8::Sanitize(r.bytes);
    EXPECT_EQ(tok->Decode(tok->Encode(r.bytes, false)), repaired) << r.name;
    ++checked;
  }
  EXPECT_GE(checked, 10u);
}

TEST(TokenizerParity, DecodeMatchesHuggingFace) {
  G3N_SHARED_TOKENIZER_OR_SKIP(tok);
  const auto cases = ReadJsonLines(TokenizerFixtureDir() + "/decode_cases.jsonl");
  ASSERT_GT(cases.size(), 50u);
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto ids = cases[i]["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok->Decode(ids), cases[i]["text"].get<std::string>()) << "case " << i;
    EXPECT_EQ(tok->Decode(ids, true), cases[i]["text_skip_special"].get<std::string>()) << "case " << i;
  }
}

// Streams `ids` one at a time: every piece must be valid UTF-8 and the whole must equal Decode.
void ExpectStreamEqualsDecode(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip,
                              const std::string& what) {
  StreamingDecoder s(tok, skip);
  std::string all;
  for (int32_t id : ids) {
    const std::string piece = s.Push(id);
    ASSERT_TRUE(utf8::IsValid(piece)) << what;
    all += piece;
  }
  const std::string tail = s.Flush();
  ASSERT_TRUE(utf8::IsValid(tail)) << what;
  all += tail;
  EXPECT_EQ(all, tok.Decode(ids, skip)) << what;
}

TEST(TokenizerParity, StreamingDecoderEqualsDecode) {
  G3N_SHARED_TOKENIZER_OR_SKIP(tok);
  for (const json& c : ReadJsonLines(TokenizerFixtureDir() + "/decode_cases.jsonl")) {
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    ExpectStreamEqualsDecode(*tok, ids, false, c.dump());
    ExpectStreamEqualsDecode(*tok, ids, true, c.dump());
  }
  for (const json& e : ReadJsonLines(TokenizerFixtureDir() + "/expected_ids.jsonl"))
    ExpectStreamEqualsDecode(*tok, e["ids"].get<std::vector<int32_t>>(), false, e["name"]);
}

TEST(TokenizerParity, SpecialTokenIds) {
  G3N_SHARED_TOKENIZER_OR_SKIP(tok);
  EXPECT_EQ(tok->vocab_size(), 262145);  // 262144 pieces + Gemma 3's <image_soft_token>
  EXPECT_TRUE(tok->add_bos());
  EXPECT_EQ(tok->bos_id(), 2);
  EXPECT_EQ(tok->Encode("", true), std::vector<int32_t>{2});
  for (auto [id, piece] : std::vector<std::pair<int32_t, std::string>>{
           {0, "<pad>"}, {1, "<eos>"}, {2, "<bos>"}, {3, "<unk>"}, {105, "<start_of_turn>"}, {106, "<end_of_turn>"}}) {
    EXPECT_EQ(tok->TokenId(piece), id);
    EXPECT_EQ(tok->Piece(id), piece);
    EXPECT_TRUE(tok->IsSpecial(id));
  }
  EXPECT_EQ(tok->TokenId("<0x0A>"), 248);
}

TEST(TokenizerGemma3n, MediaTokensMatchTheHfBuiltVariant) {
  G3N_SHARED_TOKENIZER_OR_SKIP(tok);
  EXPECT_FALSE(gemma3n::HasMediaTokens(*tok));
  auto g = gemma3n::FromGemma3(*tok);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_TRUE(gemma3n::HasMediaTokens(*g));
  const json f = json::parse(testing::ReadFileOrDie(TokenizerFixtureDir() + "/gemma3n_cases.json"));
  for (const json& s : f["special_tokens"]) {
    EXPECT_EQ(g->TokenId(s["content"].get<std::string>()), s["id"].get<int32_t>());
    EXPECT_EQ(g->Piece(s["id"].get<int32_t>()), s["content"].get<std::string>());
    EXPECT_TRUE(g->IsSpecial(s["id"].get<int32_t>()));
  }
  EXPECT_EQ(g->Piece(gemma3n::kStartOfAudio), "<start_of_audio>");
  for (const json& c : f["cases"]) {
    const std::string text = c["text"];
    const auto want = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(g->Encode(text, false), want) << text.substr(0, 80);
    EXPECT_EQ(g->Decode(want), text) << text.substr(0, 80);
  }
}

// Not a pass/fail speed gate (the bench does that): records the load times in the test log.
TEST(TokenizerParity, LoadTimes) {
  G3N_SHARED_TOKENIZER_OR_SKIP(tok);
  const std::string dir = testing::SharedTokenizerDir();
  TokenizerLoadOptions off;
  off.use_cache = false;
  TokenizerLoadInfo cold, warm;
  ASSERT_TRUE(Tokenizer::FromModelDir(dir, off, &cold).ok());
  TokenizerLoadOptions on;
  on.cache_path = (std::filesystem::temp_directory_path() / "gemma3n-test-tokenizer.g3ntok").string();
  ASSERT_TRUE(Tokenizer::FromModelDir(dir, on, &warm).ok());
  ASSERT_TRUE(Tokenizer::FromModelDir(dir, on, &warm).ok());
  EXPECT_TRUE(warm.from_cache);
  std::printf("tokenizer.json load: %.3f s parsing JSON, %.3f s from the binary cache\n", cold.seconds, warm.seconds);
  EXPECT_LT(warm.seconds, cold.seconds);
}

}  // namespace
}  // namespace g3n
