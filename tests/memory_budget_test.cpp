// Low-memory behaviour: a model, session or tower that the memory limits cannot hold is refused
// with a message before it is loaded (G3N_ERR_OUT_OF_MEMORY), never OOM-killed mid-answer.
// Limits: the caller's (memory_limit_mb), a memory cgroup, ulimit -v.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gemma3n.h"
#include "media_test_util.h"
#include "model/memory_need.h"
#include "process_test_util.h"
#include "model/model.h"
#include "test_util.h"
#include "util/memory_budget.h"

namespace g3n {
namespace {

namespace fs = std::filesystem;

TEST(MemoryBudget, ParsesLimitFiles) {
  EXPECT_FALSE(ParseCgroupLimit("max\n").has_value());
  EXPECT_EQ(ParseCgroupLimit("536870912\n"), 536870912u);
  EXPECT_FALSE(ParseCgroupLimit("9223372036854771712\n").has_value());  // v1: no limit
  EXPECT_FALSE(ParseCgroupLimit("garbage").has_value());
  EXPECT_EQ(ParseMemAvailable("MemTotal: 100 kB\nMemFree: 10 kB\nMemAvailable:   2048 kB\n"), 2048u * 1024);
  EXPECT_FALSE(ParseMemAvailable("MemTotal: 100 kB\n").has_value());
  const MemoryLimits m = ReadMemoryLimits(64u << 20);
  ASSERT_TRUE(m.resident.has_value());
  EXPECT_LE(m.resident->bytes, 64u << 20);
  EXPECT_GT(m.rss, 0u);
}

TEST(MemoryBudget, NeedFollowsContextAndChunk) {
  auto m = LoadModel(testing::FixtureDir("tiny-long"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  const TextConfig& c = (*m)->config.text;
  SessionOptions s{4096, 128, KvType::F16};
  const size_t kv4k = KvCacheBytes(c, s);
  s.capacity = 32768;
  const size_t kv32k = KvCacheBytes(c, s);
  EXPECT_GT(kv32k, kv4k);
  s.kv_type = KvType::F32;
  EXPECT_NEAR(static_cast<double>(KvCacheBytes(c, s)), 2.0 * kv32k, 0.01 * kv32k);
  EXPECT_GT(ActivationBytes(c, 512), ActivationBytes(c, 128));
  // What a session really allocates when full is within the estimate.
  TextDecoder dec(c, (*m)->weights, nullptr);
  Session full = dec.NewSession(SessionOptions{2048, 64, KvType::F16});
  std::vector<int32_t> ids(2048, 5);
  std::vector<int> none;
  for (int t0 = 0; t0 < 2048; t0 += 64) ASSERT_TRUE(dec.Forward(full, ids.data() + t0, 64, none, nullptr).ok());
  EXPECT_LE(full.cache_bytes(), KvCacheBytes(c, SessionOptions{2048, 64, KvType::F16}));
  EXPECT_GE(full.cache_bytes(), KvCacheBytes(c, SessionOptions{2048, 64, KvType::F16}) / 2);
  EXPECT_LE(full.scratch.bytes(), ActivationBytes(c, 64));
}

g3n_status Load(const std::string& dir, int limit_mb, int context, g3n_model** m) {
  g3n_model_options o;
  g3n_model_options_init(&o);
  o.threads = 2;
  o.context = context;
  o.kv_type = "f32";
  o.memory_limit_mb = limit_mb;
  *m = nullptr;
  return g3n_model_load(dir.c_str(), &o, m);
}

TEST(MemoryBudget, ModelSessionsAndTowersBeyondTheLimitAreRefused) {
  g3n_model* m = nullptr;
  // A limit below what is in use already: refused at load, with both figures.
  ASSERT_EQ(Load(testing::FixtureDir("tiny-long"), 1, 4096, &m), G3N_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(m, nullptr);
  const std::string why = g3n_last_error();
  EXPECT_NE(why.find("not enough memory for the model"), std::string::npos) << why;
  EXPECT_NE(why.find("the memory limit given (1 MiB)"), std::string::npos) << why;
  EXPECT_NE(why.find("KV cache for 4096 tokens"), std::string::npos) << why;

  // Room for the model and one full 40K-token f32 session, not for a second one: what the load
  // books (before any session) plus 1.5 sessions.
  auto model = LoadModel(testing::FixtureDir("tiny-long"));
  ASSERT_TRUE(model.ok());
  const uint64_t session = SessionNeed((*model)->config.text, SessionOptions{40960, 128, KvType::F32}).resident;
  ASSERT_EQ(Load(testing::FixtureDir("tiny-long"), 0, 40960, &m), G3N_OK) << g3n_last_error();
  g3n_model_info info;
  ASSERT_EQ(g3n_model_get_info(m, &info), G3N_OK);
  g3n_model_free(m);
  const uint64_t limit = info.memory_booked + session + session / 2;
  ASSERT_EQ(Load(testing::FixtureDir("tiny-long"), static_cast<int>(limit >> 20), 40960, &m), G3N_OK)
      << g3n_last_error();
  g3n_session *a = nullptr, *b = nullptr;
  ASSERT_EQ(g3n_session_create(m, &a), G3N_OK) << g3n_last_error();
  EXPECT_EQ(g3n_session_create(m, &b), G3N_ERR_OUT_OF_MEMORY);
  EXPECT_NE(std::string(g3n_last_error()).find("not enough memory for a session"), std::string::npos)
      << g3n_last_error();
  g3n_session_free(a);  // its share comes back
  ASSERT_EQ(g3n_session_create(m, &b), G3N_OK) << g3n_last_error();
  g3n_session_free(b);
  g3n_model_free(m);

  // A tower that does not fit is refused when the first image arrives; text keeps working.
  const std::string vision = testing::FixtureDir("tiny-vision");
  auto vm = LoadModel(vision);
  ASSERT_TRUE(vm.ok());
  const SessionOptions vs{256, 128, KvType::F32};
  const uint64_t vrun = TextRunNeed((*vm)->config.text, (*vm)->weights, vs, 2).resident;
  const uint64_t vlimit = ReadMemoryLimits().rss + vrun + (32u << 20);  // < the tower's 160 MiB of activations
  g3n_model_options o;
  g3n_model_options_init(&o);
  o.threads = 2;
  o.context = 256;
  o.kv_type = "f32";
  o.memory_limit_mb = static_cast<int>(vlimit >> 20);
  ASSERT_EQ(g3n_model_load(vision.c_str(), &o, &m), G3N_OK) << g3n_last_error();
  ASSERT_EQ(g3n_session_create(m, &a), G3N_OK) << g3n_last_error();
  const std::vector<uint8_t> bmp = testing::Bmp(std::vector<uint8_t>(3 * 32 * 32, 100).data(), 32, 32);
  EXPECT_EQ(g3n_session_add_image(a, bmp.data(), bmp.size()), G3N_ERR_OUT_OF_MEMORY);
  EXPECT_NE(std::string(g3n_last_error()).find("not enough memory for the vision tower"), std::string::npos)
      << g3n_last_error();
  const int32_t ids[] = {2, 105, 17};
  EXPECT_EQ(g3n_session_add_tokens(a, ids, 3), G3N_OK) << g3n_last_error();
  g3n_session_free(a);
  g3n_model_free(m);
}

// ---- The limits of the system, through the binary ----------------------------------------

// `script` under /bin/sh -c (single quotes must not appear in it).
testing::CommandOutput RunShell(const std::string& script) { return testing::RunCommand("/bin/sh -c '" + script + "'"); }

std::string RunTiny(const std::string& extra) {
  return std::string(G3N_BINARY) + " run --model " + testing::FixtureDir("tiny-long") +
         " --tokens 2,105,17 -n 4 --kv-type f32 " + extra;
}

// ulimit -v: big enough to start and map the model, too small for a 40K-token f32 session's
// KV cache plus the threads' reservations. Then the same run with a small context fits.
TEST(MemoryBudget, AddressSpaceLimitIsAClearError) {
  testing::CommandOutput o = RunShell("ulimit -v 400000; " + RunTiny("--ctx 40960 -t 8"));
  EXPECT_NE(o.status, 0) << o.text;
  EXPECT_NE(o.text.find("not enough memory"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("ulimit -v"), std::string::npos) << o.text;
  EXPECT_EQ(o.text.find("Segmentation"), std::string::npos) << o.text;
  testing::CommandOutput ok = RunShell("ulimit -v 400000; " + RunTiny("--ctx 512 -t 1"));
  EXPECT_EQ(ok.status, 0) << ok.text;
}

// A memory cgroup (v1 or v2) that this test can create: the run is refused with the cgroup named
// under a limit below its need, and runs under a larger one. Skipped where cgroups are read-only.
TEST(MemoryBudget, CgroupLimitIsAClearError) {
  std::string root;
  std::string limit_file;
  if (fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
    root = "/sys/fs/cgroup";
    limit_file = "memory.max";
  } else if (fs::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
    root = "/sys/fs/cgroup/memory";
    limit_file = "memory.limit_in_bytes";
  }
  const std::string dir = root + "/g3n-memory-test-" + std::to_string(getpid());
  std::error_code ec;
  if (root.empty() || !fs::create_directory(dir, ec) || !fs::exists(dir + "/" + limit_file))
    GTEST_SKIP() << "no writable memory cgroup here";
  auto set_limit = [&](uint64_t bytes) {
    std::ofstream(dir + "/" + limit_file) << bytes;
  };
  const std::string enter = "echo $$ > " + dir + "/cgroup.procs; ";
  set_limit(24u << 20);
  testing::CommandOutput o = RunShell(enter + "exec " + RunTiny("--ctx 40960"));
  set_limit(512u << 20);
  testing::CommandOutput ok = RunShell(enter + "exec " + RunTiny("--ctx 512"));
  fs::remove(dir, ec);
  EXPECT_NE(o.status, 0) << o.text;
  EXPECT_NE(o.text.find("memory cgroup limit of 24 MiB"), std::string::npos) << o.text;
  EXPECT_EQ(ok.status, 0) << ok.text;
}

}  // namespace
}  // namespace g3n
