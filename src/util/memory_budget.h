// How much memory this process may still take, read before anything large is touched, so that a
// run that cannot fit stops with a message instead of being OOM-killed mid-answer. The limit is
// the tightest of: the memory cgroup (v2 memory.max or v1 memory.limit_in_bytes, on this process's
// group and its ancestors, less what the rest of the group already uses), the memory the system
// has available (MemAvailable), the address-space and data limits (ulimit -v / RLIMIT_AS,
// RLIMIT_DATA, against mappings this process already has) and an explicit limit from the caller.
#pragma once
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "util/status.h"

namespace g3n {

struct MemoryLimit {
  uint64_t bytes = UINT64_MAX;  // what the process may hold in total (resident)
  std::string source;           // names what sets it, for messages
  bool address_space = false;   // a virtual-size limit (counts mappings, not residency)
};

// Each of the limits in force, tightest first. `explicit_bytes` (0 = none) is the caller's own.
struct MemoryLimits {
  std::optional<MemoryLimit> resident;  // cgroup / MemAvailable / explicit: against RSS
  std::optional<MemoryLimit> virtual_;  // RLIMIT_AS / RLIMIT_DATA: against VmSize
  uint64_t rss = 0;                     // this process's RSS now
  uint64_t vm_size = 0;                 // and its virtual size
};
MemoryLimits ReadMemoryLimits(uint64_t explicit_bytes = 0);

// What a run will need beyond what the process holds now: `resident` more bytes in RSS (weights
// as they are touched, caches, activations) and `reserved` more bytes of address space (heap,
// thread stacks and arenas; file mappings already made are in VmSize).
struct MemoryNeed {
  uint64_t resident = 0;
  uint64_t reserved = 0;
  std::string breakdown;  // "weights 1368 MiB + KV cache 29 MiB + ..."
};

// OK when the need fits every limit; otherwise an error naming what is needed, what the limit
// is, and where it comes from. `what` says what is being loaded ("the model", "the audio tower").
Status CheckMemory(const std::string& what, const MemoryNeed& need, const MemoryLimits& limits);

// Parsing, for tests: a cgroup limit file ("max" or a byte count; v1 reports "no limit" as a
// huge number), and MemAvailable from /proc/meminfo text (bytes; nullopt if absent).
std::optional<uint64_t> ParseCgroupLimit(const std::string& text);
std::optional<uint64_t> ParseMemAvailable(const std::string& meminfo);

std::string MiB(uint64_t bytes);  // "1368 MiB"

// What one engine has promised itself (its weights, each session's KV cache at full context,
// each loaded tower), against the resident limit read when it loaded: a session or a tower
// that would pass it is refused when it is created, never when its memory fills up mid-answer.
class MemoryLedger {
 public:
  // `committed`: what is in use or promised already (RSS at load + the model's need).
  void Init(const MemoryLimits& limits, uint64_t committed);
  // Adds `need` when it fits (the address-space limit is read afresh), else an error.
  Status Reserve(const std::string& what, const MemoryNeed& need);
  void Release(uint64_t resident);
  uint64_t committed() const;
  uint64_t limit() const;  // UINT64_MAX: none

 private:
  mutable std::mutex mu_;
  std::optional<MemoryLimit> resident_;
  uint64_t committed_ = 0;
};

}  // namespace g3n
