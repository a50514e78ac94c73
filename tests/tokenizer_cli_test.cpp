// The tokenizer subcommands and `gemma3n chat`, run as a user would: the built binary on the
// tiny fixture model with the tiny tokenizer (tests/tokenizer/tiny), stdin from a file. Skipped
// while the binary does not dispatch these subcommands yet.
#include <sys/wait.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace g3n {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CliRun {
  int rc = -1;
  std::string out, err;
};

CliRun RunCli(const std::string& args, const std::string& stdin_text) {
  const fs::path dir = fs::temp_directory_path() / ("g3n-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path in = dir / "in", out = dir / "out", err = dir / "err";
  std::ofstream(in, std::ios::binary) << stdin_text;
  const std::string cmd = std::string(G3N_BINARY) + " " + args + " < " + in.string() + " > " + out.string() +
                          " 2> " + err.string();
  CliRun r;
  const int status = std::system(cmd.c_str());
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = testing::ReadFileOrDie(out.string());
  r.err = testing::ReadFileOrDie(err.string());
  fs::remove_all(dir);
  return r;
}

#define G3N_SKIP_IF_NOT_WIRED(run, cmd)                                             \
  if ((run).err.find("unknown command") != std::string::npos)                       \
    GTEST_SKIP() << "gemma3n does not dispatch '" cmd "' yet (tools/gemma3n_main.cpp)";

const std::string kTiny = testing::TokenizerFixtureDir() + "/tiny";
const std::string kModel = std::string(G3N_FIXTURES_DIR) + "/tiny-f32";

TEST(TokenizerCli, TokenizeDetokenizeRoundTrip) {
  auto tok = Tokenizer::FromModelDir(kTiny);
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  CliRun r = RunCli("tokenize --model " + kTiny + " --prompt 'hello  what is the model?'", "");
  G3N_SKIP_IF_NOT_WIRED(r, "tokenize");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::vector<int32_t> ids = json::parse(r.out).get<std::vector<int32_t>>();
  EXPECT_EQ(ids, tok->Encode("hello  what is the model?", true));

  r = RunCli("tokenize --no-bos --model " + kTiny, "from stdin\n");  // stdin byte for byte
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).get<std::vector<int32_t>>(), tok->Encode("from stdin\n", false));

  r = RunCli("tokenize --jsonl --model " + kTiny, "\"a b\"\n\"<end_of_turn>\"\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  std::istringstream lines(r.out);
  std::string l1, l2;
  std::getline(lines, l1);
  std::getline(lines, l2);
  EXPECT_EQ(json::parse(l1).get<std::vector<int32_t>>(), tok->Encode("a b", true));
  EXPECT_EQ(json::parse(l2).get<std::vector<int32_t>>(), tok->Encode("<end_of_turn>", true));

  r = RunCli("detokenize --model " + kTiny, json(tok->Encode("hello  you", true)).dump());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "<bos>hello  you");
  r = RunCli("detokenize --skip-special --model " + kTiny + " --ids 2,113", "");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, tok->Decode({113}));
}

TEST(TokenizerCli, BadInputGivesOneErrorLine) {
  CliRun r = RunCli("tokenize --model /nonexistent-dir", "x");
  G3N_SKIP_IF_NOT_WIRED(r, "tokenize");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("tokenizer.json"), std::string::npos) << r.err;
  r = RunCli("tokenize --jsonl --model " + kTiny, "not json\n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;
  r = RunCli("detokenize --model " + kTiny + " --ids 2,99999", "");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("99999"), std::string::npos) << r.err;
}

TEST(ChatCli, MultiTurnSaveLoadAndContextFull) {
  const fs::path save = fs::temp_directory_path() / ("g3n-chat-" + std::to_string(::getpid()) + ".json");
  CliRun r = RunCli("chat --model " + kModel + " --tokenizer " + kTiny + " --system 'Be brief.' -n 6 --seed 3",
                    "hello\nwhat is the model?\n/save " + save.string() + "\n/reset\nhi\n");
  G3N_SKIP_IF_NOT_WIRED(r, "chat");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("[saved 5 messages"), std::string::npos) << r.err;
  auto tok = Tokenizer::FromModelDir(kTiny);
  ASSERT_TRUE(tok.ok());
  const json saved = json::parse(testing::ReadFileOrDie(save.string()));
  ASSERT_EQ(saved.size(), 5u);
  EXPECT_EQ(saved[0]["role"], "system");
  EXPECT_EQ(saved[3]["content"], "what is the model?");
  // The second turn prefilled only the close of the first answer ("<end_of_turn>\n", after the
  // answer's last token when the token budget cut it) and the new turn.
  std::vector<int> prompt_tokens;
  for (size_t at = 0; (at = r.err.find(" prompt tokens", at)) != std::string::npos; ++at) {
    size_t b = at;
    while (b > 0 && std::isdigit(static_cast<unsigned char>(r.err[b - 1]))) --b;
    prompt_tokens.push_back(std::stoi(r.err.substr(b, at - b)));
  }
  ASSERT_EQ(prompt_tokens.size(), 3u) << r.err;
  auto turn = EncodeTurn(*tok, ChatMessage::Text("user", "what is the model?"), true);
  ASSERT_TRUE(turn.ok());
  EXPECT_GE(prompt_tokens[1], static_cast<int>(turn->size()) + 2);
  EXPECT_LE(prompt_tokens[1], static_cast<int>(turn->size()) + 3);
  EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;

  r = RunCli("chat --model " + kModel + " --tokenizer " + kTiny + " -n 4 --seed 3",
             "/load " + save.string() + "\nmore\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("[loaded 5 messages"), std::string::npos) << r.err;

  r = RunCli("chat --model " + kModel + " --tokenizer " + kTiny + " --ctx 16 -n 4",
             "this message is far too long for a context of sixteen positions\nhi\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("context full"), std::string::npos) << r.err;
  fs::remove(save);
}

}  // namespace
}  // namespace g3n
