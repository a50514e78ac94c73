// The binary tokenizer cache: a TokenizerSpec written as flat arrays, so a later start reads
// ~10 MB of arrays instead of parsing 33 MB of JSON. The header records the size, mtime and a
// hash of the first and last 64 KiB of tokenizer.json and tokenizer_config.json; any
// difference (or a damaged payload, caught by a checksum) makes the cache stale and it is
// rebuilt. Writes go to a temporary file renamed into place, so concurrent loaders never see a
// half-written cache.
#pragma once
#include <cstdint>
#include <string>

#include "tokenizer/tokenizer_spec.h"
#include "util/status.h"

namespace g3n {

struct SourceStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t edge_hash = 0;
  bool exists = false;
  bool operator==(const SourceStamp&) const = default;
};

// Stamp of a file; an empty path gives the stamp of "no file".
Result<SourceStamp> StampFile(const std::string& path);

// The cache beside `json_path` (tokenizer.json -> tokenizer.g3ntok) and the per-user fallback
// ($XDG_CACHE_HOME or ~/.cache)/gemma3n/<hash of the absolute path>.g3ntok.
std::string CachePathBeside(const std::string& json_path);
std::string CachePathInUserCache(const std::string& json_path);

// Fails (a stale, missing or damaged cache) with a message; the caller then parses the JSON.
Result<TokenizerSpec> ReadTokenizerCache(const std::string& cache_path, const SourceStamp& json_stamp,
                                         const SourceStamp& config_stamp);
Status WriteTokenizerCache(const std::string& cache_path, const TokenizerSpec& spec, const SourceStamp& json_stamp,
                           const SourceStamp& config_stamp);

// A fast non-cryptographic 64-bit hash (checksums, stamps, file names).
uint64_t Hash64(const void* data, size_t n, uint64_t seed = 0);

}  // namespace g3n
