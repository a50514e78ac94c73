// Conditional parameter loading: a text-only run never reads the vision/audio tensors that sit
// in the same checkpoint files, and never maps the PLE table (its rows are read, not mapped).
// Checked through /proc/self/pagemap: a page this process touched is present in its page table.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "model/model.h"
#include "model/text_decoder.h"
#include "test_util.h"

namespace g3n {
namespace {

namespace fs = std::filesystem;

// Pages of [begin, end) present in this process's page table.
size_t PresentPages(const uint8_t* begin, const uint8_t* end) {
  const long page = sysconf(_SC_PAGESIZE);
  const int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return SIZE_MAX;
  size_t present = 0;
  for (uintptr_t a = reinterpret_cast<uintptr_t>(begin) / page; a < reinterpret_cast<uintptr_t>(end) / page; ++a) {
    uint64_t entry = 0;
    if (pread(fd, &entry, 8, static_cast<off_t>(a * 8)) == 8 && (entry >> 63)) ++present;
  }
  close(fd);
  return present;
}

// Rewrites tiny-nested's model.safetensors with large vision and audio tensors placed between
// text tensors, the way a real multimodal shard interleaves them: right before and after the
// PLE table, so any read of the PLE or media bytes through the mapping would show.
std::string WriteMultimodalCopy() {
  const std::string src = testing::FixtureDir("tiny-nested");
  const std::string dir = ::testing::TempDir() + "/g3n_multimodal_" + std::to_string(getpid());
  fs::create_directories(dir);
  for (const char* f : {"config.json", "generation_config.json"})
    fs::copy_file(src + "/" + f, dir + "/" + f, fs::copy_options::overwrite_existing);
  auto st = OpenSafetensors(src + "/model.safetensors");
  EXPECT_TRUE(st.ok());
  const size_t big = 8u << 20;  // 8 MiB each
  const char* media[] = {"model.audio_tower.conformer.0.ffw_layer_start.ffw_layer_1.weight",
                         "model.vision_tower.timm_model.blocks.0.0.conv_exp.weight"};
  nlohmann::json header = nlohmann::json::object();
  std::vector<uint8_t> data;
  auto add_media = [&](const char* mname) {
    header[mname] = {{"dtype", "BF16"}, {"shape", {static_cast<int64_t>(big / 2)}},
                     {"data_offsets", {data.size(), data.size() + big}}};
    data.resize(data.size() + big, 0x3f);
  };
  for (const auto& [name, t] : st->tensors) {
    const bool ple = name == "model.language_model.embed_tokens_per_layer.weight";
    if (ple) add_media(media[0]);
    header[name] = {{"dtype", DTypeName(t.dtype)}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.nbytes}}};
    data.insert(data.end(), t.data, t.data + t.nbytes);
    if (ple) add_media(media[1]);
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');
  std::ofstream out(dir + "/model.safetensors", std::ios::binary);
  const uint64_t len = h.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  return dir;
}

TEST(ConditionalLoading, TextRunLeavesMediaAndPleUntouched) {
  if (PresentPages(nullptr, nullptr) == SIZE_MAX) GTEST_SKIP() << "/proc/self/pagemap unavailable";
  const std::string dir = WriteMultimodalCopy();
  auto model = LoadModel(dir);
  ASSERT_TRUE(model.ok()) << model.status().message();
  ThreadPool pool(2);
  TextDecoder decoder((*model)->config.text, (*model)->weights, &pool);
  Session s = decoder.NewSession(64);
  std::vector<int32_t> ids{2, 10, 20, 30, 40, 50, 60, 70};
  std::vector<float> logits((*model)->config.text.vocab_size);
  ASSERT_TRUE(decoder.Forward(s, ids.data(), static_cast<int>(ids.size()), {7}, logits.data()).ok());

  // A fault maps more than the touched page: fault-around, and on newer kernels the whole large
  // folio (up to 2 MiB) that holds it. Skip that margin next to the text tensors.
  const size_t margin = 2u << 20;
  for (const auto& [name, t] : (*model)->checkpoint.tensors) {
    const bool media = name.rfind("model.vision_tower.", 0) == 0 || name.rfind("model.audio_tower.", 0) == 0;
    if (!media) continue;
    ASSERT_GT(t.nbytes, 2 * margin);
    EXPECT_EQ(PresentPages(t.data + margin, t.data + t.nbytes - margin), 0u) << name << " was read";
  }
  const WeightMatrix& ple = (*model)->weights.ple;
  EXPECT_EQ(PresentPages(ple.data, ple.data + ple.row_stride * ple.rows), 0u)
      << "PLE table was mapped in";
  // Sanity check that the probe sees touched pages: the embedding table was read.
  const WeightMatrix& emb = (*model)->weights.embed;
  EXPECT_GT(PresentPages(emb.data, emb.data + emb.row_stride * emb.rows), 0u);
  EXPECT_GT(decoder.ple_stats().reads, 0u);
  fs::remove_all(dir);
}

// A MatFormer sub-model reads the first f columns of each down-projection row. After
// MapRowPrefixesOnly, exactly those prefixes are mapped, even when every page of the rows had
// been mapped before (fault-around and large folios map whole neighbourhoods).
TEST(ConditionalLoading, RowPrefixesOnlyStayMapped) {
  if (PresentPages(nullptr, nullptr) == SIZE_MAX) GTEST_SKIP() << "/proc/self/pagemap unavailable";
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t stride = 16 * page, used = 4 * page + 100, rows = 63, skew = 100;
  const std::string path = ::testing::TempDir() + "/g3n_rows_" + std::to_string(getpid());
  {
    std::ofstream f(path, std::ios::binary);
    const std::vector<char> bytes(stride * (rows + 1), 7);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  auto file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  const uint8_t* data = (*file)->data();
  uint64_t sum = 0;
  for (size_t i = 0; i < (*file)->size(); i += page) sum += data[i];  // map every page
  ASSERT_EQ(sum, 7u * (stride * (rows + 1) / page));
  ASSERT_EQ(PresentPages(data, data + (*file)->size()), (*file)->size() / page);  // tails mapped too
  const uint8_t* base = data + skew;
  MapRowPrefixesOnly(base, static_cast<int64_t>(rows), stride, used);
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t* row = base + r * stride;
    const uint8_t* prefix_end = row + used;
    EXPECT_EQ(PresentPages(row, prefix_end + page - 1), (used + skew + page - 1) / page) << "row " << r;
    // The tail's whole pages: from the page after the prefix to the page holding the next row.
    const uint8_t* tail = data + ((reinterpret_cast<uintptr_t>(prefix_end) - reinterpret_cast<uintptr_t>(data) + page - 1) / page) * page;
    const uint8_t* next = data + ((r + 1) * stride);
    EXPECT_EQ(PresentPages(tail, next), 0u) << "row " << r;
  }
  EXPECT_EQ(base[used - 1], 7);  // still readable
  std::remove(path.c_str());
}

}  // namespace
}  // namespace g3n
