// The gemma3n binary end to end: logits --out writes what transformers computed; run streams
// ids and a stats line; bench --json prints one JSON object.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gemma3n.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "media_test_util.h"
#include "process_test_util.h"
#include "test_util.h"

namespace g3n {
namespace {

using Output = testing::CommandOutput;

Output RunBinary(const std::string& args) { return testing::RunCommand(std::string(G3N_BINARY) + " " + args); }

std::string JoinIds(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(ids[i]);
  }
  return s;
}

TEST(Cli, LogitsNpyMatchesReference) {
  const std::string dir = testing::FixtureDir("tiny-nested");
  auto ref = OpenSafetensors(dir + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  const auto ids = testing::ToInts(ref->tensors.at("input_ids"));
  const auto want = testing::ToFloats(ref->tensors.at("prefill_logits"));
  const std::string out = ::testing::TempDir() + "/g3n_logits.npy";
  Output o = RunBinary("logits --model " + dir + " --tokens " + JoinIds(ids) + " --out " + out);
  ASSERT_EQ(o.status, 0) << o.text;

  std::ifstream f(out, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string bytes = ss.str();
  ASSERT_GT(bytes.size(), 10u);
  ASSERT_EQ(bytes.substr(1, 5), "NUMPY");
  const size_t hlen = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  const std::string header = bytes.substr(10, hlen);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("(80, 512)"), std::string::npos) << header;
  EXPECT_EQ((10 + hlen) % 64, 0u);
  ASSERT_EQ(bytes.size(), 10 + hlen + want.size() * 4);
  std::vector<float> got(want.size());
  std::memcpy(got.data(), bytes.data() + 10 + hlen, got.size() * 4);
  testing::ExpectClose(want, got.data(), 1e-4f, "logits.npy");
}

// run --audio FILE with the prompt as ids: the clip fills the <audio_soft_token> ids, and the
// first greedy id is transformers' argmax after the prompt (tests/fixtures/tiny-audio).
TEST(Cli, RunWithAudioFile) {
  const std::string dir = testing::FixtureDir("tiny-audio");
  auto ref = OpenSafetensors(dir + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  const auto ids = testing::ToInts(ref->tensors.at("prompt_ids"));
  const auto logits = testing::ToFloats(ref->tensors.at("prompt_logits"));
  const int V = static_cast<int>(logits.size() / ids.size());
  const std::string wav = ::testing::TempDir() + "/g3n_cli_clip.wav";
  const std::vector<uint8_t> bytes = testing::Wav(testing::TinyAudioClip());
  std::ofstream(wav, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  Output o = RunBinary("run --model " + dir + " --audio " + wav + " --tokens " + JoinIds(ids) + " -n 1 --greedy");
  ASSERT_EQ(o.status, 0) << o.text;
  const int want = testing::Argmax(logits.data() + (ids.size() - 1) * V, V);
  EXPECT_EQ(o.text.rfind(std::to_string(want) + " ", 0), 0u) << o.text;
  // --text-only refuses it; a missing file is named.
  o = RunBinary("run --model " + dir + " --text-only --audio " + wav + " --tokens " + JoinIds(ids) + " -n 1");
  EXPECT_NE(o.status, 0);
  EXPECT_NE(o.text.find("text-only"), std::string::npos) << o.text;
  o = RunBinary("run --model " + dir + " --audio /no/such.wav --tokens 2 -n 1");
  EXPECT_NE(o.status, 0);
  EXPECT_NE(o.text.find("/no/such.wav"), std::string::npos) << o.text;
}

// The answer the C API gives for one user turn with media (greedy), as text.
std::string ApiAnswer(const std::string& fixture, const std::vector<uint8_t>& media, bool image,
                      const std::string& text, int n) {
  g3n_model_options o;
  g3n_model_options_init(&o);
  o.threads = 2;
  g3n_model* m = nullptr;
  EXPECT_EQ(g3n_model_load(testing::FixtureDir(fixture).c_str(), &o, &m), G3N_OK) << g3n_last_error();
  g3n_session* s = nullptr;
  EXPECT_EQ(g3n_session_create(m, &s), G3N_OK);
  EXPECT_EQ(image ? g3n_session_add_image(s, media.data(), media.size()) : g3n_session_add_audio(s, media.data(), media.size()),
            G3N_OK) << g3n_last_error();
  EXPECT_EQ(g3n_session_add_message(s, "user", text.c_str()), G3N_OK) << g3n_last_error();
  g3n_generate_options go;
  g3n_generate_options_init(m, &go);
  go.greedy = 1;
  go.max_new_tokens = n;
  std::string out;
  EXPECT_EQ(g3n_session_generate(s, &go, [](void* u, int32_t, const char* t, size_t len) {
              static_cast<std::string*>(u)->append(t, len);
              return 0;
            }, &out, nullptr), G3N_OK) << g3n_last_error();
  g3n_session_free(s);
  g3n_model_free(m);
  return out;
}

std::string WriteTemp(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// transcribe: one line per 30 s chunk with its time span; each chunk's text is what the C API
// answers for that clip and the same request.
TEST(Cli, TranscribeChunksLongAudio) {
  const std::string dir = testing::FixtureDir("tiny-audio");
  std::vector<int16_t> pcm;
  while (pcm.size() < 16000 * 70) {
    const std::vector<int16_t> s = testing::TinyAudioClip();
    pcm.insert(pcm.end(), s.begin(), s.end());
  }
  pcm.resize(16000 * 70);
  const std::string wav = WriteTemp("g3n_70s.wav", testing::Wav(pcm));
  Output o = RunBinary("transcribe " + wav + " --model " + dir + " -n 3 --json");
  ASSERT_EQ(o.status, 0) << o.text;
  EXPECT_NE(o.text.find("transcribed in 3 chunks"), std::string::npos) << o.text;
  std::vector<nlohmann::json> lines;
  std::istringstream in(o.text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty() && l[0] == '{') lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 3u) << o.text;
  EXPECT_EQ(lines[0]["start"], 0.0);
  EXPECT_EQ(lines[1]["start"], 30.0);
  EXPECT_EQ(lines[2]["end"], 70.0);
  const std::vector<int16_t> last(pcm.begin() + 16000 * 60, pcm.end());
  std::string want = ApiAnswer("tiny-audio", testing::Wav(last), false, "Transcribe this audio clip.", 3);
  while (!want.empty() && (want.back() == '\n' || want.back() == ' ')) want.pop_back();
  EXPECT_FALSE(want.empty());
  EXPECT_EQ(lines[2]["text"], want);
  EXPECT_NE(RunBinary("transcribe /no/such.wav --model " + dir).status, 0);
}

// run --image with a text prompt on tiny-vision: the same text as the C API.
TEST(Cli, RunWithImageAndPrompt) {
  auto ref = OpenSafetensors(testing::FixtureDir("tiny-vision") + "/reference.safetensors");
  ASSERT_TRUE(ref.ok());
  const TensorView& px = ref->tensors.at("pixels_u8");
  const std::vector<uint8_t> bmp = testing::Bmp(px.data, static_cast<int>(px.shape[2]), static_cast<int>(px.shape[1]));
  const std::string path = WriteTemp("g3n_img.bmp", bmp);
  Output o = RunBinary("run --model " + testing::FixtureDir("tiny-vision") + " --image " + path +
                       " --prompt 'What is this?' -n 5 --greedy 2>/dev/null");
  ASSERT_EQ(o.status, 0) << o.text;
  const std::string want = ApiAnswer("tiny-vision", bmp, true, "What is this?", 5);
  EXPECT_FALSE(want.empty());
  EXPECT_EQ(o.text.substr(0, want.size()), want) << o.text;
}

TEST(Cli, RunStreamsIdsAndStats) {
  const std::string dir = testing::FixtureDir("tiny-sharded");
  Output o = RunBinary("run --model " + dir + " --tokens 2,10,20,30 -n 5 --greedy");
  ASSERT_EQ(o.status, 0) << o.text;
  EXPECT_NE(o.text.find("prompt 4 tokens"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("decode"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("peak RSS"), std::string::npos) << o.text;
}

TEST(Cli, BenchJsonIsOneObject) {
  Output o = RunBinary("bench --model " + testing::FixtureDir("tiny-f32") + " -p 16 -n 4 -t 2 --json");
  ASSERT_EQ(o.status, 0) << o.text;
  auto j = nlohmann::json::parse(o.text, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << o.text;
  for (const char* k : {"prefill_tok_s", "decode_tok_s", "load_s", "peak_rss_mib"}) {
    ASSERT_TRUE(j.contains(k)) << k;
    EXPECT_GT(j[k].get<double>(), 0.0) << k;
  }
  EXPECT_EQ(j["n_prompt"], 16);
  EXPECT_EQ(j["n_gen"], 4);
}

// info names what it opened: the files of an HF folder, or the GGUF's version and tensors.
TEST(Cli, InfoDescribesFolderAndGguf) {
  Output o = RunBinary("info --model " + testing::FixtureDir("tiny-sharded"));
  ASSERT_EQ(o.status, 0) << o.text;
  EXPECT_NE(o.text.find("(3 files,"), std::string::npos) << o.text;
  const std::string gguf = testing::FixtureDir("gguf") + "/tiny-gguf.llamacpp.bf16.gguf";
  auto f = OpenGguf(gguf);
  ASSERT_TRUE(f.ok()) << f.status().message();
  o = RunBinary("info --model " + gguf);
  ASSERT_EQ(o.status, 0) << o.text;
  const std::string want = "(GGUF v" + std::to_string(f->version) + ", ";
  EXPECT_NE(o.text.find(want), std::string::npos) << o.text;
  EXPECT_NE(o.text.find(", " + std::to_string(f->tensors.size()) + " tensors)"), std::string::npos) << o.text;
}

TEST(Cli, UnknownCommandAndFlagFail) {
  EXPECT_NE(RunBinary("frobnicate").status, 0);
  Output o = RunBinary("run --model x --tokens 2 --bogus 1");
  EXPECT_NE(o.status, 0);
  EXPECT_NE(o.text.find("unknown flag --bogus"), std::string::npos) << o.text;
}

}  // namespace
}  // namespace g3n
