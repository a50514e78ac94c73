// The tokenizer of a GGUF file: written by `quantize` into the GGUF's tokenizer.ggml.* metadata
// (SentencePiece form) and read back, it tokenizes exactly like the checkpoint's tokenizer.json;
// for the real Gemma 3 vocabulary the rebuilt merge list equals tokenizer.json's, merge by merge.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gemma3n.h"
#include "io/gguf.h"
#include "model/gguf_convert.h"
#include "model/gguf_vocab.h"
#include "model/model.h"
#include "test_util.h"
#include "tokenizer/gemma3n_tokens.h"
#include "tokenizer/gguf_tokenizer.h"
#include "tokenizer/sentencepiece_bpe.h"
#include "tokenizer_test_util.h"

namespace g3n {
namespace {

std::vector<std::string> CorpusTexts(size_t max) {
  std::vector<std::string> texts = {"Hello world!", "  two  spaces   three", "tabs\tand\nnewlines\n\n\n",
                                    "<start_of_turn>user\nHi<end_of_turn>\n", "Grüße 東京 😀 \xF0\x9F\x91\x8D", ""};
  for (const auto& j : testing::ReadJsonLines(testing::TokenizerFixtureDir() + "/corpus.jsonl")) {
    if (texts.size() >= max) break;
    if (j.contains("text") && j["text"].is_string()) texts.push_back(j["text"].get<std::string>());
  }
  return texts;
}

SentencePieceVocab FromHfVocab(const HfVocab& h) {
  SentencePieceVocab v{h.tokens, h.scores, h.types, -1, -1, true};
  for (const auto& [typ, id] : h.special_ids) {
    if (typ == "unk") v.unk_id = id;
    if (typ == "bos") v.bos_id = id;
  }
  for (const auto& [typ, b] : h.add_flags)
    if (typ == "bos") v.add_bos = b;
  return v;
}

TEST(GgufTokenizer, TinyChatRoundTripsThroughAGguf) {
  const std::string dir = testing::FixtureDir("tiny-chat");
  const std::string out = ::testing::TempDir() + "/g3n_tok_" + std::to_string(::getpid()) + ".gguf";
  auto model = LoadModel(dir);
  ASSERT_TRUE(model.ok()) << model.status().message();
  GgufConvertOptions opt;
  opt.mix = GgufMix::F32;
  std::string warning;
  ASSERT_TRUE(ConvertToGguf(**model, dir, out, opt, &warning).ok());
  auto want = gemma3n::LoadTokenizer(dir);
  auto got = gemma3n::LoadTokenizer(out);  // a GGUF path: its metadata
  ASSERT_TRUE(want.ok()) << want.status().message();
  ASSERT_TRUE(got.ok()) << got.status().message();
  for (const std::string& t : CorpusTexts(200)) {
    const std::vector<int32_t> ids = want->Encode(t, true);
    ASSERT_EQ(got->Encode(t, true), ids) << t.substr(0, 80);
    EXPECT_EQ(got->Decode(ids), want->Decode(ids));
  }
  // And through the C API: a GGUF alone is enough for text.
  g3n_model* m = nullptr;
  ASSERT_EQ(g3n_model_load(out.c_str(), nullptr, &m), G3N_OK) << g3n_last_error();
  g3n_model_info info{};
  ASSERT_EQ(g3n_model_get_info(m, &info), G3N_OK);
  EXPECT_EQ(info.has_tokenizer, 1);
  int32_t ids[64];
  size_t n = 0;
  ASSERT_EQ(g3n_tokenize(m, "Hello world!", 12, 1, ids, 64, &n), G3N_OK);
  EXPECT_EQ(std::vector<int32_t>(ids, ids + n), want->Encode("Hello world!", true));
  g3n_model_free(m);
  std::filesystem::remove(out);
}

TEST(GgufTokenizer, RealVocabularyRebuildsTheSameMerges) {
  G3N_SHARED_TOKENIZER_OR_SKIP(shared);
  // tokenizer.json -> the SentencePiece form a GGUF stores (scores from merge ranks, as
  // quantize writes for folders without tokenizer.model) -> merges rebuilt as transformers does.
  auto hf = ReadHfVocab(testing::SharedTokenizerDir(), 262400);  // text_config.vocab_size
  ASSERT_TRUE(hf.ok()) << hf.status().message();
  auto spec = TokenizerSpecFromSentencePiece(FromHfVocab(*hf), "shared");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  const std::vector<Merge>& want = shared->spec().merges;
  ASSERT_EQ(spec->merges.size(), want.size());
  size_t differ = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (spec->merges[i].left != want[i].left || spec->merges[i].right != want[i].right) {
      if (differ++ < 5) ADD_FAILURE() << "merge " << i << " differs";
    }
  EXPECT_EQ(differ, 0u);
  auto tok = Tokenizer::FromSpec(std::move(*spec));
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  for (const std::string& t : CorpusTexts(1000)) ASSERT_EQ(tok->Encode(t, true), shared->Encode(t, true)) << t.substr(0, 80);
}

TEST(GgufTokenizer, MissingOrBadMetadataIsAnError) {
  SentencePieceVocab v;
  EXPECT_FALSE(TokenizerSpecFromSentencePiece(v, "x").ok());
  v.tokens = {"a", "b"};
  v.scores = {0.0f};
  v.types = {1, 1};
  EXPECT_FALSE(TokenizerSpecFromSentencePiece(v, "x").ok());
}

}  // namespace
}  // namespace g3n
