// tokenizer_bench: load time (JSON vs binary cache) and single-thread encode/decode throughput of
// the Gemma tokenizer on the parity corpus. bench/tokenizer_bench.py runs it next to HF
// `tokenizers` on the same texts and prints the ratio.
//
//   tokenizer_bench [--tokenizer DIR] [--corpus tests/tokenizer/corpus.jsonl] [--seconds 3] [--json]
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "util/sysinfo.h"

namespace {

using g3n::Tokenizer;

std::vector<std::string> ReadCorpus(const std::string& path) {
  std::vector<std::string> texts;
  std::ifstream in(path, std::ios::binary);
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json r = nlohmann::json::parse(line, nullptr, false);
    if (r.is_discarded()) continue;
    if (r.contains("text")) {
      texts.push_back(r["text"].get<std::string>());
    } else if (r.contains("hex")) {
      // The Python side encodes the repaired text; give both sides the same input.
      const std::string hex = r["hex"];
      std::string bytes;
      for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
      texts.push_back(g3n::utf8::Sanitize(bytes));
    }
  }
  return texts;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "../shared/tokenizer", corpus = "tests/tokenizer/corpus.jsonl";
  double seconds = 3.0;
  bool as_json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tokenizer" && i + 1 < argc) dir = argv[++i];
    else if (a == "--corpus" && i + 1 < argc) corpus = argv[++i];
    else if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (a == "--json") as_json = true;
    else {
      std::fprintf(stderr, "usage: tokenizer_bench [--tokenizer DIR] [--corpus FILE] [--seconds S] [--json]\n");
      return 2;
    }
  }

  // Load once without the cache (JSON parse), then twice with a private cache (write, read).
  const std::string cache = (std::filesystem::temp_directory_path() / "gemma3n-bench-tokenizer.g3ntok").string();
  std::filesystem::remove(cache);
  g3n::TokenizerLoadOptions no_cache, with_cache;
  no_cache.use_cache = false;
  with_cache.cache_path = cache;
  g3n::TokenizerLoadInfo parse_info, write_info, read_info;
  auto parsed = Tokenizer::FromModelDir(dir, no_cache, &parse_info);
  if (!parsed.ok()) {
    std::fprintf(stderr, "error: %s\n", parsed.status().message().c_str());
    return 1;
  }
  auto written = Tokenizer::FromModelDir(dir, with_cache, &write_info);
  auto tok = Tokenizer::FromModelDir(dir, with_cache, &read_info);
  if (!written.ok() || !tok.ok() || !read_info.from_cache) {
    std::fprintf(stderr, "error: the binary cache did not round-trip\n");
    return 1;
  }

  const std::vector<std::string> texts = ReadCorpus(corpus);
  if (texts.empty()) {
    std::fprintf(stderr, "error: no texts in %s\n", corpus.c_str());
    return 1;
  }
  size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();

  // Encode: whole passes over the corpus until `seconds` have passed; the best pass counts.
  size_t tokens = 0;
  double best = 1e30, total = 0.0;
  int passes = 0;
  std::vector<std::vector<int32_t>> ids(texts.size());
  while (total < seconds || passes < 3) {
    const double t0 = g3n::NowSeconds();
    tokens = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      ids[i] = tok->Encode(texts[i], false);
      tokens += ids[i].size();
    }
    const double dt = g3n::NowSeconds() - t0;
    best = std::min(best, dt);
    total += dt;
    ++passes;
  }
  // Decode the same ids.
  double dbest = 1e30, dtotal = 0.0;
  size_t out_bytes = 0;
  for (int p = 0; dtotal < seconds / 2 || p < 3; ++p) {
    const double t0 = g3n::NowSeconds();
    out_bytes = 0;
    for (const auto& v : ids) out_bytes += tok->Decode(v).size();
    const double dt = g3n::NowSeconds() - t0;
    dbest = std::min(dbest, dt);
    dtotal += dt;
  }

  if (as_json) {
    nlohmann::json j = {{"load_json_s", parse_info.seconds},  {"load_json_and_write_cache_s", write_info.seconds},
                        {"load_cache_s", read_info.seconds},  {"texts", texts.size()},
                        {"bytes", bytes},                     {"tokens", tokens},
                        {"encode_best_s", best},              {"encode_passes", passes},
                        {"encode_mb_s", bytes / best / 1e6},  {"encode_tokens_s", tokens / best},
                        {"decode_best_s", dbest},             {"decode_mb_s", out_bytes / dbest / 1e6}};
    std::printf("%s\n", j.dump(1).c_str());
  } else {
    std::printf("load: %.3f s from tokenizer.json, %.3f s from the binary cache (%.3f s parse + write)\n",
                parse_info.seconds, read_info.seconds, write_info.seconds);
    std::printf("encode: %zu texts, %zu bytes -> %zu tokens; best of %d passes %.4f s = %.2f MB/s, %.2f M tokens/s\n",
                texts.size(), bytes, tokens, passes, best, bytes / best / 1e6, tokens / best / 1e6);
    std::printf("decode: best %.4f s = %.2f MB/s\n", dbest, out_bytes / dbest / 1e6);
  }
  std::filesystem::remove(cache);
  return 0;
}
