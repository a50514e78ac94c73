// Bad input never crashes: every broken checkpoint (safetensors file, shard index, config.json,
// generation_config.json) or bad CLI argument gives one error naming the file and the tensor or
// key at fault, and the CLI exits non-zero with a single "error: ..." line.
//
// Each test copies a fixture model into its own temporary folder and breaks exactly one thing.
// Safetensors files are edited by parsing the header, changing it and writing it back (padded to
// 8 bytes like the reference writer), so the other tensors stay valid. The round-trip controls
// show that an edited file with no fault still loads, so each failure below comes from its fault.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "model/model.h"
#include "test_util.h"

namespace g3n {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kSingle = "model.safetensors";
constexpr const char* kShard1 = "model-00001-of-00003.safetensors";
constexpr const char* kShard2 = "model-00002-of-00003.safetensors";
constexpr const char* kShard3 = "model-00003-of-00003.safetensors";
constexpr const char* kIndex = "model.safetensors.index.json";
const std::string kPrefix = "model.language_model.";

// ---------------------------------------------------------------------------------------------
// File helpers

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << p;
}

json ReadJson(const fs::path& p) { return json::parse(ReadAll(p)); }
void WriteJson(const fs::path& p, const json& j) { WriteAll(p, j.dump(2)); }

std::string U64Le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// A safetensors file split into its parsed header and its data section.
struct St {
  json header;
  std::string data;
};

St ReadSt(const fs::path& p) {
  const std::string bytes = ReadAll(p);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes.at(i));
  St st;
  st.header = json::parse(bytes.substr(8, n));
  st.data = bytes.substr(8 + n);
  return st;
}

// Raw header text (padded with spaces to a multiple of 8 unless `pad` is false) + data.
void WriteRawSt(const fs::path& p, std::string header, const std::string& data, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  WriteAll(p, U64Le(header.size()) + header + data);
}

void WriteSt(const fs::path& p, const St& st) { WriteRawSt(p, st.header.dump(), st.data); }

size_t TestDTypeSize(const std::string& dt) {
  if (dt == "F32" || dt == "I32") return 4;
  if (dt == "BF16" || dt == "F16") return 2;
  if (dt == "I64" || dt == "F64") return 8;
  return 1;  // F8_E4M3, U8, I8 and made-up names
}

// Gives tensor `name` a new dtype and shape with freshly appended zero bytes of exactly the right
// size, so the only thing wrong with the entry is whatever the caller chose.
void Relocate(St& st, const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape) {
  size_t n = TestDTypeSize(dtype);
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  const size_t begin = st.data.size();
  st.data.append(n, '\0');
  st.header[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {begin, begin + n}}};
}

// The tensor whose bytes end last in the data section.
std::string LastTensor(const St& st) {
  std::string best;
  uint64_t end = 0;
  for (auto it = st.header.begin(); it != st.header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const uint64_t e = it.value()["data_offsets"][1].get<uint64_t>();
    if (e >= end) { end = e; best = it.key(); }
  }
  return best;
}

// The name inside the first "tensor '...'" of an error message.
std::string TensorInMessage(const std::string& msg) {
  const std::string tag = "tensor '";
  const size_t a = msg.find(tag);
  if (a == std::string::npos) return "";
  const size_t b = msg.find('\'', a + tag.size());
  return b == std::string::npos ? "" : msg.substr(a + tag.size(), b - a - tag.size());
}

// A fresh, empty folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string tag = info ? std::string(info->test_suite_name()) + "." + info->name() : "x";
    for (char& c : tag)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    path_ = fs::temp_directory_path() /
            ("g3n_bad_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Copies a fixture model (without its reference outputs) into `to`.
void CopyFixture(const std::string& fixture, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(testing::FixtureDir(fixture))) {
    if (e.path().filename() == "reference.safetensors") continue;
    const fs::path dst = to / e.path().filename();
    fs::copy_file(e.path(), dst, fs::copy_options::overwrite_existing);
    fs::permissions(dst, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
  }
}

// ---------------------------------------------------------------------------------------------
// LoadModel on a broken copy

class BadInput : public ::testing::Test {
 protected:
  fs::path Dir() const { return tmp_.path() / "ckpt"; }
  fs::path File(const std::string& f) const { return Dir() / f; }
  void Use(const std::string& fixture) { CopyFixture(fixture, Dir()); }

  // Loads the folder, which must fail; returns the message.
  std::string LoadError() {
    auto m = LoadModel(Dir().string());
    EXPECT_FALSE(m.ok()) << "loading " << Dir() << " should have failed";
    if (m.ok()) return "";
    EXPECT_FALSE(m.status().message().empty());
    EXPECT_EQ(m.status().message().find('\n'), std::string::npos) << "message should be one line";
    return m.status().message();
  }

  void EditSt(const std::string& file, const std::function<void(St&)>& edit) {
    St st = ReadSt(File(file));
    edit(st);
    WriteSt(File(file), st);
  }

  // Edits the text part of config.json (text_config when nested) and/or its top level.
  void EditConfig(const std::function<void(json& text, json& top)>& edit) {
    json top = ReadJson(File("config.json"));
    json& text = top.contains("text_config") ? top["text_config"] : top;
    edit(text, top);
    WriteJson(File("config.json"), top);
  }

  TempDir tmp_;
};

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << "message: " << (msg) << "\nmissing: " << (part)

// Controls: the helpers themselves produce loadable checkpoints, and the tensor names used
// below exist in the fixtures, so every failure below is caused by its one fault.
TEST_F(BadInput, ControlRewrittenSingleFileLoads) {
  Use("tiny-nested");
  EditSt(kSingle, [](St& st) {
    for (const char* t : {"layers.0.self_attn.k_proj.weight", "layers.3.mlp.down_proj.weight", "norm.weight",
                          "layers.0.self_attn.q_proj.weight"})
      ASSERT_TRUE(st.header.contains(kPrefix + t)) << t;
    // Moving a tensor to fresh bytes with its own dtype and shape keeps the file valid.
    const json e = st.header[kPrefix + "norm.weight"];
    Relocate(st, kPrefix + "norm.weight", e["dtype"].get<std::string>(), e["shape"].get<std::vector<int64_t>>());
  });
  EditConfig([](json&, json&) {});
  auto m = LoadModel(Dir().string());
  ASSERT_TRUE(m.ok()) << m.status().message();
  // Relocated bytes are zeros: the final norm now reads them.
  for (float x : (*m)->weights.final_norm) EXPECT_EQ(x, 0.0f);
}

TEST_F(BadInput, ControlRewrittenShardsLoad) {
  Use("tiny-sharded");
  for (const char* s : {kShard1, kShard2, kShard3}) EditSt(s, [](St&) {});
  WriteJson(File(kIndex), ReadJson(File(kIndex)));
  auto m = LoadModel(Dir().string());
  ASSERT_TRUE(m.ok()) << m.status().message();
}

// KV-consumer layers' k/v projections are dead weights: their absence is no error.
TEST_F(BadInput, ControlConsumerKvProjectionsMayBeAbsent) {
  Use("tiny-nested");
  EditSt(kSingle, [](St& st) {
    ASSERT_EQ(st.header.erase(kPrefix + "layers.9.self_attn.k_proj.weight"), 1u);
    ASSERT_EQ(st.header.erase(kPrefix + "layers.9.self_attn.v_proj.weight"), 1u);
  });
  auto m = LoadModel(Dir().string());
  ASSERT_TRUE(m.ok()) << m.status().message();
}

// --- truncated files

TEST_F(BadInput, TruncatedOneByteShortNamesLastTensor) {
  Use("tiny-nested");
  const St st = ReadSt(File(kSingle));
  const std::string last = LastTensor(st);
  std::string bytes = ReadAll(File(kSingle));
  bytes.pop_back();
  WriteAll(File(kSingle), bytes);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + last + "'");
  EXPECT_HAS(msg, "truncated");
}

TEST_F(BadInput, TruncatedInsideDataSection) {
  Use("tiny-nested");
  const St st = ReadSt(File(kSingle));
  const std::string bytes = ReadAll(File(kSingle));
  const size_t data_start = bytes.size() - st.data.size();
  const size_t keep_data = st.data.size() / 2;
  WriteAll(File(kSingle), bytes.substr(0, data_start + keep_data));
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  const std::string name = TensorInMessage(msg);
  ASSERT_TRUE(st.header.contains(name)) << msg;
  EXPECT_GT(st.header[name]["data_offsets"][1].get<uint64_t>(), keep_data) << "named tensor is intact: " << msg;
}

TEST_F(BadInput, TruncatedInsideHeader) {
  Use("tiny-nested");
  const std::string bytes = ReadAll(File(kSingle));
  WriteAll(File(kSingle), bytes.substr(0, 8 + 100));
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "header length");
}

TEST_F(BadInput, TruncatedToThreeBytes) {
  Use("tiny-nested");
  WriteAll(File(kSingle), ReadAll(File(kSingle)).substr(0, 3));
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "3 bytes");
}

TEST_F(BadInput, EmptyFile) {
  Use("tiny-nested");
  WriteAll(File(kSingle), "");
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "0 bytes");
}

TEST_F(BadInput, TruncatedShardNamesShard) {
  Use("tiny-sharded");
  const St st = ReadSt(File(kShard2));
  const std::string last = LastTensor(st);
  std::string bytes = ReadAll(File(kShard2));
  bytes.resize(bytes.size() - 10);
  WriteAll(File(kShard2), bytes);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kShard2);
  EXPECT_HAS(msg, "'" + last + "'");
}

// --- header length and offsets

TEST_F(BadInput, HeaderLengthLargerThanFile) {
  Use("tiny-nested");
  std::string bytes = ReadAll(File(kSingle));
  const std::string len = U64Le(bytes.size());  // header "ends" past the end of the file
  bytes.replace(0, 8, len);
  WriteAll(File(kSingle), bytes);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "header length " + std::to_string(bytes.size()));
}

TEST_F(BadInput, HeaderLengthHuge) {
  Use("tiny-nested");
  std::string bytes = ReadAll(File(kSingle));
  bytes.replace(0, 8, U64Le(~0ull));  // 8 + len overflows u64
  WriteAll(File(kSingle), bytes);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "header length");
}

TEST_F(BadInput, DataOffsetsPastEnd) {
  Use("tiny-nested");
  const std::string t = kPrefix + "layers.3.mlp.down_proj.weight";
  EditSt(kSingle, [&](St& st) {
    const uint64_t b = st.header[t]["data_offsets"][0], e = st.header[t]["data_offsets"][1];
    const uint64_t n = st.data.size();
    st.header[t]["data_offsets"] = {n - (e - b) + 2, n + 2};  // right size, 2 bytes past the end
  });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "data_offsets");
}

TEST_F(BadInput, DataOffsetsHugeDoNotWrap) {
  Use("tiny-nested");
  const std::string t = kPrefix + "norm.weight";
  EditSt(kSingle, [&](St& st) {
    const uint64_t b = st.header[t]["data_offsets"][0], e = st.header[t]["data_offsets"][1];
    const uint64_t big = ~0ull - (e - b) + 1;  // begin + size wraps to 0
    st.header[t]["data_offsets"] = {big, big + (e - b) - 1};
  });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
}

TEST_F(BadInput, DataOffsetsBeginAfterEnd) {
  Use("tiny-nested");
  const std::string t = kPrefix + "layers.3.mlp.down_proj.weight";
  EditSt(kSingle, [&](St& st) {
    const json o = st.header[t]["data_offsets"];
    st.header[t]["data_offsets"] = {o[1], o[0]};
  });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "data_offsets");
}

TEST_F(BadInput, ByteCountDoesNotMatchShape) {
  Use("tiny-nested");
  const std::string t = kPrefix + "layers.3.mlp.down_proj.weight";
  EditSt(kSingle, [&](St& st) {
    const uint64_t e = st.header[t]["data_offsets"][1];
    st.header[t]["data_offsets"][1] = e - 2;  // one BF16 element short, shape unchanged
  });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "[128, 128]");
}

TEST_F(BadInput, DataOffsetsNotIntegers) {
  Use("tiny-nested");
  const std::string t = kPrefix + "norm.weight";
  EditSt(kSingle, [&](St& st) { st.header[t]["data_offsets"] = {-2, 254}; });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "data_offsets");
}

// An unpadded header leaves 16-bit weights at odd addresses; the engine reads them in place.
TEST_F(BadInput, MisalignedDataIsRejected) {
  Use("tiny-nested");
  const St st = ReadSt(File(kSingle));
  std::string header = st.header.dump();
  if (header.size() % 2 == 0) header += ' ';
  WriteRawSt(File(kSingle), header, st.data, /*pad=*/false);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "aligned");
  EXPECT_TRUE(st.header.contains(TensorInMessage(msg))) << msg;
}

// --- shapes, names and dtypes

TEST_F(BadInput, WrongShapeTransposedProjection) {
  Use("tiny-nested");
  const std::string t = kPrefix + "layers.0.self_attn.k_proj.weight";  // [kv_dim 64, H 128]
  EditSt(kSingle, [&](St& st) {
    ASSERT_EQ(st.header[t]["shape"], json({64, 128}));
    st.header[t]["shape"] = {128, 64};
  });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "[128, 64]");
  EXPECT_HAS(msg, "[64, 128]");
}

TEST_F(BadInput, WrongShapeFlattenedNorm) {
  Use("tiny-nested");
  const std::string t = kPrefix + "layers.2.altup.correction_coefs.weight";  // [4, 4]
  EditSt(kSingle, [&](St& st) { st.header[t]["shape"] = {16}; });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "[4, 4]");
}

TEST_F(BadInput, ShapeWithNegativeDimension) {
  Use("tiny-nested");
  const std::string t = kPrefix + "norm.weight";
  EditSt(kSingle, [&](St& st) { st.header[t]["shape"] = {-128}; });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "shape");
}

TEST_F(BadInput, ShapeOverflowingElementCount) {
  Use("tiny-nested");
  const std::string t = kPrefix + "norm.weight";
  EditSt(kSingle, [&](St& st) { st.header[t]["shape"] = {1ll << 32, 1ll << 32, 1ll << 32}; });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
}

TEST_F(BadInput, MissingTensor) {
  Use("tiny-nested");
  const std::string t = kPrefix + "layers.3.mlp.down_proj.weight";
  EditSt(kSingle, [&](St& st) { ASSERT_EQ(st.header.erase(t), 1u); });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "missing");
}

TEST_F(BadInput, MissingTensorInShardedCheckpoint) {
  Use("tiny-sharded");
  const std::string t = kPrefix + "layers.1.mlp.up_proj.weight";
  json idx = ReadJson(File(kIndex));
  ASSERT_EQ(idx["weight_map"][t], kShard2);
  idx["weight_map"].erase(t);
  WriteJson(File(kIndex), idx);
  EditSt(kShard2, [&](St& st) { ASSERT_EQ(st.header.erase(t), 1u); });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, kShard2);  // one of the files searched
  EXPECT_HAS(msg, "missing");
}

TEST_F(BadInput, MissingHeaderField) {
  Use("tiny-nested");
  const std::string t = kPrefix + "norm.weight";
  EditSt(kSingle, [&](St& st) { st.header[t].erase("dtype"); });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "dtype");
}

TEST_F(BadInput, UnknownDtypeF8) {
  Use("tiny-nested");
  const std::string t = kPrefix + "layers.1.self_attn.o_proj.weight";
  EditSt(kSingle, [&](St& st) { Relocate(st, t, "F8_E4M3", {128, 128}); });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "F8_E4M3");
}

TEST_F(BadInput, UnknownDtypeMadeUp) {
  Use("tiny-nested");
  const std::string t = kPrefix + "norm.weight";
  EditSt(kSingle, [&](St& st) { st.header[t]["dtype"] = "Q9"; });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "Q9");
}

TEST_F(BadInput, DtypeNotAString) {
  Use("tiny-nested");
  const std::string t = kPrefix + "norm.weight";
  EditSt(kSingle, [&](St& st) { st.header[t]["dtype"] = 16; });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "dtype");
}

TEST_F(BadInput, IntegerDtypeOnWeight) {
  Use("tiny-nested");
  const std::string t = kPrefix + "layers.0.mlp.gate_proj.weight";  // [256, 128]
  EditSt(kSingle, [&](St& st) {
    ASSERT_EQ(st.header[t]["shape"], json({256, 128}));
    Relocate(st, t, "I32", {256, 128});  // right shape and byte count, wrong type
  });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, "I32");
}

// --- header not JSON / not an object

TEST_F(BadInput, HeaderNotJson) {
  Use("tiny-nested");
  const St st = ReadSt(File(kSingle));
  WriteRawSt(File(kSingle), "{\"a\": this is not json", st.data);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "JSON");
}

TEST_F(BadInput, HeaderJsonNotObject) {
  Use("tiny-nested");
  const St st = ReadSt(File(kSingle));
  WriteRawSt(File(kSingle), "[1, 2, 3]", st.data);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "JSON object");
}

TEST_F(BadInput, HeaderEntryNotObject) {
  Use("tiny-nested");
  const std::string t = kPrefix + "norm.weight";
  EditSt(kSingle, [&](St& st) { st.header[t] = 5; });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + t + "'");
}

// --- shards and the index

TEST_F(BadInput, DuplicateTensorAcrossShards) {
  Use("tiny-sharded");
  const std::string t = kPrefix + "layers.0.input_layernorm.weight";
  ASSERT_EQ(ReadJson(File(kIndex))["weight_map"][t], kShard1);
  EditSt(kShard2, [&](St& st) {
    ASSERT_FALSE(st.header.contains(t));
    Relocate(st, t, "BF16", {96});
  });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, kShard1);
  EXPECT_HAS(msg, kShard2);
}

TEST_F(BadInput, IndexNamesMissingShardFile) {
  Use("tiny-sharded");
  fs::remove(File(kShard3));
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kIndex);
  EXPECT_HAS(msg, kShard3);
  EXPECT_HAS(msg, "tensor '");
}

TEST_F(BadInput, IndexPointsTensorAtWrongShard) {
  Use("tiny-sharded");
  const std::string t = kPrefix + "layers.0.input_layernorm.weight";
  json idx = ReadJson(File(kIndex));
  ASSERT_EQ(idx["weight_map"][t], kShard1);
  idx["weight_map"][t] = kShard2;
  WriteJson(File(kIndex), idx);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kIndex);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, kShard2);
  EXPECT_HAS(msg, kShard1);  // where it really is
}

TEST_F(BadInput, IndexListsTensorMissingFromShard) {
  Use("tiny-sharded");
  const std::string t = kPrefix + "layers.1.mlp.up_proj.weight";
  EditSt(kShard2, [&](St& st) { ASSERT_EQ(st.header.erase(t), 1u); });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kIndex);
  EXPECT_HAS(msg, "'" + t + "'");
  EXPECT_HAS(msg, kShard2);
}

// The shard the index points outside the folder exists and is valid: only the name check
// stops the loader from reading it.
void PointShard1Outside(const fs::path& dir, const std::string& target) {
  fs::copy_file(dir / kShard1, dir.parent_path() / kShard1);
  fs::remove(dir / kShard1);
  json idx = ReadJson(dir / kIndex);
  for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it)
    if (it.value() == kShard1) it.value() = target;
  WriteJson(dir / kIndex, idx);
}

TEST_F(BadInput, IndexPathTraversal) {
  Use("tiny-sharded");
  const std::string target = std::string("../") + kShard1;
  PointShard1Outside(Dir(), target);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kIndex);
  EXPECT_HAS(msg, "'" + target + "'");
}

TEST_F(BadInput, IndexAbsolutePath) {
  Use("tiny-sharded");
  const std::string target = (tmp_.path() / kShard1).string();
  PointShard1Outside(Dir(), target);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kIndex);
  EXPECT_HAS(msg, "'" + target + "'");
}

TEST_F(BadInput, IndexNotJson) {
  Use("tiny-sharded");
  WriteAll(File(kIndex), "{\"weight_map\": ");
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kIndex);
}

TEST_F(BadInput, IndexWithoutWeightMap) {
  Use("tiny-sharded");
  json idx = ReadJson(File(kIndex));
  idx.erase("weight_map");
  WriteJson(File(kIndex), idx);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kIndex);
  EXPECT_HAS(msg, "weight_map");
}

TEST_F(BadInput, IndexEntryNotString) {
  Use("tiny-sharded");
  const std::string t = kPrefix + "norm.weight";
  json idx = ReadJson(File(kIndex));
  ASSERT_TRUE(idx["weight_map"].contains(t));
  idx["weight_map"][t] = 3;
  WriteJson(File(kIndex), idx);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kIndex);
  EXPECT_HAS(msg, "'" + t + "'");
}

TEST_F(BadInput, NoWeightFiles) {
  Use("tiny-nested");
  fs::remove(File(kSingle));
  const std::string msg = LoadError();
  EXPECT_HAS(msg, Dir().string());
  EXPECT_HAS(msg, kSingle);
}

TEST_F(BadInput, NotADirectory) {
  const std::string msg = [&] {
    auto m = LoadModel((tmp_.path() / "does-not-exist").string());
    EXPECT_FALSE(m.ok());
    return m.ok() ? std::string() : m.status().message();
  }();
  EXPECT_HAS(msg, "does-not-exist");
}

// --- config.json

TEST_F(BadInput, ConfigMissing) {
  Use("tiny-nested");
  fs::remove(File("config.json"));
  const std::string msg = LoadError();
  EXPECT_HAS(msg, "config.json");
  EXPECT_HAS(msg, "missing");
}

TEST_F(BadInput, ConfigNotJson) {
  Use("tiny-nested");
  WriteAll(File("config.json"), "{\"text_config\": {\"hidden_size\": 128,");
  const std::string msg = LoadError();
  EXPECT_HAS(msg, File("config.json").string());
  EXPECT_HAS(msg, "JSON");
}

TEST_F(BadInput, ConfigEmpty) {
  Use("tiny-nested");
  WriteAll(File("config.json"), "");
  const std::string msg = LoadError();
  EXPECT_HAS(msg, File("config.json").string());
}

// A config that parses but does not match the weights: the message names the weight file, the
// tensor and the shape config.json implies.
TEST_F(BadInput, ConfigDisagreesWithWeights) {
  Use("tiny-nested");
  EditConfig([](json& t, json&) { t["hidden_size"] = 64; });
  const std::string msg = LoadError();
  EXPECT_HAS(msg, kSingle);
  EXPECT_HAS(msg, "'" + kPrefix + "embed_tokens.weight'");
  EXPECT_HAS(msg, "[512, 64]");
  EXPECT_HAS(msg, "config.json");
}

TEST_F(BadInput, ConfigNotObject) {
  Use("tiny-nested");
  WriteAll(File("config.json"), "[128]");
  const std::string msg = LoadError();
  EXPECT_HAS(msg, File("config.json").string());
  EXPECT_HAS(msg, "JSON object");
}

// One bad config.json key per case, applied to a fixture; the message must name config.json
// and every `expect` part (normally the key).
struct ConfigCase {
  std::string name;
  std::string fixture;
  std::function<void(json& text, json& top)> edit;
  std::vector<std::string> expect;
};

void PrintTo(const ConfigCase& c, std::ostream* os) { *os << c.name; }

class BadConfig : public BadInput, public ::testing::WithParamInterface<ConfigCase> {};

TEST_P(BadConfig, GivesClearError) {
  const ConfigCase& c = GetParam();
  Use(c.fixture);
  EditConfig(c.edit);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, File("config.json").string());
  for (const auto& part : c.expect) EXPECT_HAS(msg, part);
}

const char* kNested = "tiny-nested";
const char* kTextOnly = "tiny-sharded";

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfig,
    ::testing::Values(
        ConfigCase{"MissingHiddenSize", kNested, [](json& t, json&) { t.erase("hidden_size"); },
                   {"'hidden_size'", "missing", "(text_config)"}},
        ConfigCase{"MissingHiddenSizeTextOnly", kTextOnly, [](json& t, json&) { t.erase("hidden_size"); },
                   {"'hidden_size'", "missing"}},
        ConfigCase{"MissingNumLayers", kNested, [](json& t, json&) { t.erase("num_hidden_layers"); },
                   {"'num_hidden_layers'"}},
        ConfigCase{"MissingIntermediateSize", kNested, [](json& t, json&) { t.erase("intermediate_size"); },
                   {"'intermediate_size'"}},
        ConfigCase{"HiddenSizeString", kNested, [](json& t, json&) { t["hidden_size"] = "big"; }, {"'hidden_size'"}},
        ConfigCase{"HiddenSizeFraction", kNested, [](json& t, json&) { t["hidden_size"] = 128.5; },
                   {"'hidden_size'"}},
        ConfigCase{"HiddenSizeNegative", kNested, [](json& t, json&) { t["hidden_size"] = -128; }, {"'hidden_size'"}},
        ConfigCase{"HiddenSizeTooLarge", kNested, [](json& t, json&) { t["hidden_size"] = 1ll << 40; },
                   {"'hidden_size'"}},
        ConfigCase{"TextConfigNotObject", kNested, [](json&, json& top) { top["text_config"] = "gemma"; },
                   {"'text_config'"}},
        ConfigCase{"NestedWithoutTextConfig", kNested,
                   [](json&, json& top) { top.erase("text_config"); }, {"'text_config'"}},
        ConfigCase{"TextModelTypeWrong", kNested, [](json& t, json&) { t["model_type"] = "gemma3_text"; },
                   {"model_type", "gemma3_text"}},
        ConfigCase{"TextModelTypeNotString", kNested, [](json& t, json&) { t["model_type"] = 5; }, {"model_type"}},
        ConfigCase{"TopModelTypeNotString", kTextOnly, [](json& t, json&) { t["model_type"] = json::array(); },
                   {"model_type"}},
        ConfigCase{"IntermediateSizeListTooShort", kNested,
                   [](json& t, json&) { t["intermediate_size"].erase(t["intermediate_size"].size() - 1); },
                   {"'intermediate_size'", "9 entries", "num_hidden_layers is 10"}},
        ConfigCase{"IntermediateSizeNegativeEntry", kNested, [](json& t, json&) { t["intermediate_size"][3] = -128; },
                   {"'intermediate_size'"}},
        ConfigCase{"IntermediateSizeEntryOutOfRange", kNested,
                   [](json& t, json&) { t["intermediate_size"][3] = (1ll << 32) + 128; }, {"'intermediate_size'"}},
        ConfigCase{"IntermediateSizeEntryString", kNested, [](json& t, json&) { t["intermediate_size"][0] = "256"; },
                   {"'intermediate_size'"}},
        ConfigCase{"LayerTypesUnknownEntry", kNested,
                   [](json& t, json&) { t["layer_types"][2] = "chunked_attention"; },
                   {"'layer_types'", "chunked_attention"}},
        ConfigCase{"LayerTypesWrongLength", kNested, [](json& t, json&) { t["layer_types"].erase(0); },
                   {"'layer_types'"}},
        ConfigCase{"SharedLayersEqualLayerCount", kNested, [](json& t, json&) { t["num_kv_shared_layers"] = 10; },
                   {"num_kv_shared_layers", "num_hidden_layers"}},
        ConfigCase{"SharedLayersAboveLayerCount", kNested, [](json& t, json&) { t["num_kv_shared_layers"] = 11; },
                   {"num_kv_shared_layers"}},
        ConfigCase{"SharedLayersNegative", kNested, [](json& t, json&) { t["num_kv_shared_layers"] = -1; },
                   {"'num_kv_shared_layers'"}},
        ConfigCase{"SharedLayerWithoutProducer", kNested,
                   [](json& t, json&) {  // only layer 9 is global, and it is a consumer
                     t["layer_types"][4] = "sliding_attention";
                   },
                   {"layer 9"}},
        ConfigCase{"SlidingWindowNegative", kNested, [](json& t, json&) { t["sliding_window"] = -1; },
                   {"'sliding_window'"}},
        ConfigCase{"SlidingWindowZero", kNested, [](json& t, json&) { t["sliding_window"] = 0; },
                   {"'sliding_window'"}},
        ConfigCase{"MaxPositionsZero", kNested, [](json& t, json&) { t["max_position_embeddings"] = 0; },
                   {"'max_position_embeddings'"}},
        ConfigCase{"ZeroAttentionHeads", kNested, [](json& t, json&) { t["num_attention_heads"] = 0; },
                   {"'num_attention_heads'"}},
        ConfigCase{"ZeroKvHeads", kNested, [](json& t, json&) { t["num_key_value_heads"] = 0; },
                   {"'num_key_value_heads'"}},
        ConfigCase{"ZeroHeadDim", kNested, [](json& t, json&) { t["head_dim"] = 0; }, {"'head_dim'"}},
        ConfigCase{"ZeroVocab", kNested, [](json& t, json&) { t["vocab_size"] = 0; }, {"'vocab_size'"}},
        ConfigCase{"HeadsNotMultipleOfKvHeads", kNested, [](json& t, json&) { t["num_key_value_heads"] = 3; },
                   {"num_attention_heads", "num_key_value_heads"}},
        ConfigCase{"OddHeadDim", kNested, [](json& t, json&) { t["head_dim"] = 33; }, {"head_dim"}},
        ConfigCase{"AltupActiveIdxOutOfRange", kNested, [](json& t, json&) { t["altup_active_idx"] = 4; },
                   {"altup_active_idx"}},
        ConfigCase{"SparsityOutOfRange", kNested, [](json& t, json&) { t["activation_sparsity_pattern"][0] = 1.5; },
                   {"'activation_sparsity_pattern'"}},
        ConfigCase{"RmsNormEpsString", kNested, [](json& t, json&) { t["rms_norm_eps"] = "1e-6"; },
                   {"'rms_norm_eps'"}},
        ConfigCase{"RopeScalingYarn", kNested,
                   [](json& t, json&) { t["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}}; },
                   {"rope_scaling", "yarn"}},
        ConfigCase{"RopeScalingTypeNotString", kNested,
                   [](json& t, json&) { t["rope_scaling"] = {{"rope_type", 5}}; }, {"rope_scaling"}},
        ConfigCase{"RopeScalingNotObject", kNested, [](json& t, json&) { t["rope_scaling"] = "linear"; },
                   {"rope_scaling"}},
        ConfigCase{"RopeParametersLinear", kNested,
                   [](json& t, json&) { t["rope_parameters"]["full_attention"]["rope_type"] = "linear"; },
                   {"rope_parameters.full_attention", "linear"}},
        ConfigCase{"RopeParametersTypeNotString", kNested,
                   [](json& t, json&) { t["rope_parameters"]["sliding_attention"]["rope_type"] = 1; },
                   {"rope_parameters.sliding_attention"}},
        ConfigCase{"RopeThetaString", kNested,
                   [](json& t, json&) { t["rope_parameters"]["full_attention"]["rope_theta"] = "1e6"; },
                   {"rope_parameters.full_attention.rope_theta"}},
        ConfigCase{"AttnSoftcapSet", kNested, [](json& t, json&) { t["attn_logit_softcapping"] = 50.0; },
                   {"attn_logit_softcapping"}},
        ConfigCase{"EosTokenIdString", kNested, [](json&, json& top) { top["eos_token_id"] = "one"; },
                   {"'eos_token_id'"}}),
    [](const ::testing::TestParamInfo<ConfigCase>& info) { return info.param.name; });

// --- generation_config.json

TEST_F(BadInput, GenerationConfigNotJson) {
  Use("tiny-nested");
  WriteAll(File("generation_config.json"), "{\"do_sample\": true,,}");
  const std::string msg = LoadError();
  EXPECT_HAS(msg, File("generation_config.json").string());
  EXPECT_HAS(msg, "JSON");
}

TEST_F(BadInput, GenerationConfigNotObject) {
  Use("tiny-nested");
  WriteAll(File("generation_config.json"), "\"greedy\"");
  const std::string msg = LoadError();
  EXPECT_HAS(msg, File("generation_config.json").string());
}

struct GenCase {
  std::string name;
  std::function<void(json&)> edit;
  std::string key;
};
void PrintTo(const GenCase& c, std::ostream* os) { *os << c.name; }

class BadGeneration : public BadInput, public ::testing::WithParamInterface<GenCase> {};

TEST_P(BadGeneration, GivesClearError) {
  Use("tiny-nested");
  json g = ReadJson(File("generation_config.json"));
  GetParam().edit(g);
  WriteJson(File("generation_config.json"), g);
  const std::string msg = LoadError();
  EXPECT_HAS(msg, File("generation_config.json").string());
  EXPECT_HAS(msg, "'" + GetParam().key + "'");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadGeneration,
    ::testing::Values(GenCase{"DoSampleString", [](json& g) { g["do_sample"] = "yes"; }, "do_sample"},
                      GenCase{"TopKNegative", [](json& g) { g["top_k"] = -1; }, "top_k"},
                      GenCase{"TopPString", [](json& g) { g["top_p"] = "0.9"; }, "top_p"},
                      GenCase{"TemperatureList", [](json& g) { g["temperature"] = {1.0}; }, "temperature"},
                      GenCase{"EosString", [](json& g) { g["eos_token_id"] = "1"; }, "eos_token_id"},
                      GenCase{"EosListWithString", [](json& g) { g["eos_token_id"] = {1, "106"}; }, "eos_token_id"},
                      GenCase{"EosNegative", [](json& g) { g["eos_token_id"] = {1, -106}; }, "eos_token_id"}),
    [](const ::testing::TestParamInfo<GenCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// The CLI: exit status and a single "error: ..." line on stderr.

struct CliResult {
  int exit_code = -1;
  bool signaled = false;
  std::string err;
  std::vector<std::string> lines;  // non-empty stderr lines
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

CliResult RunCli(const std::string& args) {
  const std::string cmd = Quote(G3N_BINARY) + " " + args + " 2>&1 1>/dev/null";
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "popen failed: " << cmd;
    return r;
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.err.append(buf.data(), n);
  const int status = ::pclose(p);
  r.signaled = WIFSIGNALED(status);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::istringstream ss(r.err);
  for (std::string line; std::getline(ss, line);)
    if (!line.empty()) r.lines.push_back(line);
  return r;
}

// Exits with status 1 and exactly one stderr line "error: ..." holding every part.
void ExpectCliError(const CliResult& r, const std::vector<std::string>& parts) {
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  ASSERT_EQ(r.lines.size(), 1u) << "stderr:\n" << r.err;
  EXPECT_EQ(r.lines[0].rfind("error: ", 0), 0u) << r.lines[0];
  for (const auto& part : parts) EXPECT_HAS(r.lines[0], part);
}

const std::string kGood = "--model " + Quote(testing::FixtureDir("tiny-nested")) + " -t 2 -n 2 ";

TEST(BadCli, ControlGoodRunSucceeds) {
  const CliResult r = RunCli("run " + kGood + "--tokens 2,3");
  EXPECT_FALSE(r.signaled);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;
}

TEST_F(BadInput, CliTruncatedModel) {
  Use("tiny-nested");
  std::string bytes = ReadAll(File(kSingle));
  bytes.resize(bytes.size() / 2);
  WriteAll(File(kSingle), bytes);
  ExpectCliError(RunCli("run --model " + Quote(Dir().string()) + " --tokens 2,3 -t 2"), {kSingle, "tensor '"});
}

TEST_F(BadInput, CliBadConfig) {
  Use("tiny-nested");
  EditConfig([](json& t, json&) { t["hidden_size"] = "big"; });
  ExpectCliError(RunCli("run --model " + Quote(Dir().string()) + " --tokens 2,3 -t 2"),
                 {"config.json", "'hidden_size'"});
}

TEST_F(BadInput, CliMissingTensor) {
  Use("tiny-nested");
  const std::string t = kPrefix + "layers.3.mlp.down_proj.weight";
  EditSt(kSingle, [&](St& st) { st.header.erase(t); });
  ExpectCliError(RunCli("info --model " + Quote(Dir().string())), {kSingle, t});
}

TEST(BadCli, ModelDirDoesNotExist) {
  ExpectCliError(RunCli("run --model /nonexistent/g3n-model --tokens 2,3"), {"/nonexistent/g3n-model"});
}

TEST(BadCli, TokenNotANumber) {
  ExpectCliError(RunCli("run " + kGood + "--tokens 2,abc"), {"--tokens", "'abc'"});
}

TEST(BadCli, TokenNegative) { ExpectCliError(RunCli("run " + kGood + "--tokens 2,-5"), {"--tokens", "'-5'"}); }

TEST(BadCli, TokenEmptyEntry) { ExpectCliError(RunCli("run " + kGood + "--tokens 2,,3"), {"--tokens"}); }

TEST(BadCli, TokenOutOfVocabulary) {
  // tiny-nested has vocab_size 512.
  ExpectCliError(RunCli("run " + kGood + "--tokens 2,512"), {"token id 512", "vocabulary", "512"});
}

TEST(BadCli, TokenOutOfVocabularyLogits) {
  ExpectCliError(RunCli("logits " + kGood.substr(0, kGood.find(" -n")) + " --tokens 2,100000 --out /dev/null"),
                 {"token id 100000", "vocabulary"});
}

TEST(BadCli, PromptLongerThanContext) {
  ExpectCliError(RunCli("run " + kGood + "--ctx 4 --tokens 2,3,4,5,6"), {"context", "--ctx", "5 tokens"});
}

TEST(BadCli, ContextAboveModelLimit) {
  // tiny-nested has max_position_embeddings 512.
  ExpectCliError(RunCli("run " + kGood + "--ctx 513 --tokens 2,3"), {"--ctx", "513"});
}

TEST(BadCli, FlagNotANumber) { ExpectCliError(RunCli("run " + kGood.substr(0, kGood.find(" -n")) + " -n many --tokens 2"), {"'many'"}); }

TEST(BadCli, UnknownFlag) { ExpectCliError(RunCli("run " + kGood + "--tokens 2 --bogus 1"), {"--bogus"}); }

}  // namespace
}  // namespace g3n
