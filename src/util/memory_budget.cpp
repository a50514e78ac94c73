#include "util/memory_budget.h"

#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

namespace g3n {
namespace {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<uint64_t> ReadNumber(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return std::nullopt;
  try {
    return std::stoull(*text);
  } catch (...) {
    return std::nullopt;
  }
}

// "VmRSS:   1234 kB" from /proc/self/status, in bytes.
uint64_t StatusField(const std::string& status, const std::string& key) {
  const size_t at = status.find(key + ":");
  if (at == std::string::npos) return 0;
  try {
    return std::stoull(status.substr(at + key.size() + 1)) * 1024;
  } catch (...) {
    return 0;
  }
}

void Tighten(std::optional<MemoryLimit>& cur, uint64_t bytes, std::string source, bool address_space) {
  if (!cur || bytes < cur->bytes) cur = MemoryLimit{bytes, std::move(source), address_space};
}

// The tightest memory cgroup limit over this process's group and its ancestors, as the total
// this process may hold: limit - (group usage - our RSS).
void CgroupLimits(uint64_t rss, std::optional<MemoryLimit>& out) {
  auto self = ReadSmallFile("/proc/self/cgroup");
  if (!self) return;
  std::istringstream lines(*self);
  std::string line;
  while (std::getline(lines, line)) {
    // "0::/path" (v2) or "4:memory:/path" (v1).
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    const bool v2 = line.compare(0, a, "0") == 0 && controllers.empty();
    const bool v1 = controllers.find("memory") != std::string::npos;
    if (!v1 && !v2) continue;
    const std::string root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
    const std::string limit_file = v2 ? "memory.max" : "memory.limit_in_bytes";
    const std::string usage_file = v2 ? "memory.current" : "memory.usage_in_bytes";
    for (;;) {
      const std::string dir = root + (path == "/" ? "" : path);
      auto text = ReadSmallFile(dir + "/" + limit_file);
      if (text) {
        if (auto limit = ParseCgroupLimit(*text)) {
          const uint64_t usage = ReadNumber(dir + "/" + usage_file).value_or(0);
          const uint64_t others = usage > rss ? usage - rss : 0;
          Tighten(out, *limit > others ? *limit - others : 0,
                  "the memory cgroup limit of " + MiB(*limit) + " (" + dir + "/" + limit_file + ", " +
                      MiB(others) + " used by the rest of the group)",
                  false);
        }
      }
      if (path.empty() || path == "/") break;
      const size_t slash = path.rfind('/');
      path = slash == 0 ? "/" : path.substr(0, slash);
    }
  }
}

}  // namespace

std::string MiB(uint64_t bytes) { return std::to_string((bytes + (1u << 19)) >> 20) + " MiB"; }

std::optional<uint64_t> ParseCgroupLimit(const std::string& text) {
  if (text.rfind("max", 0) == 0) return std::nullopt;
  try {
    const uint64_t v = std::stoull(text);
    if (v >= (uint64_t{1} << 62)) return std::nullopt;  // v1's "unlimited" (PAGE_COUNTER_MAX pages)
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<uint64_t> ParseMemAvailable(const std::string& meminfo) {
  const size_t at = meminfo.find("MemAvailable:");
  if (at == std::string::npos) return std::nullopt;
  try {
    return std::stoull(meminfo.substr(at + 13)) * 1024;
  } catch (...) {
    return std::nullopt;
  }
}

MemoryLimits ReadMemoryLimits(uint64_t explicit_bytes) {
  MemoryLimits m;
  if (auto status = ReadSmallFile("/proc/self/status")) {
    m.rss = StatusField(*status, "VmRSS");
    m.vm_size = StatusField(*status, "VmSize");
  }
  if (explicit_bytes > 0) Tighten(m.resident, explicit_bytes, "the memory limit given (" + MiB(explicit_bytes) + ")", false);
  CgroupLimits(m.rss, m.resident);
  if (auto info = ReadSmallFile("/proc/meminfo")) {
    if (auto avail = ParseMemAvailable(*info))
      Tighten(m.resident, *avail + m.rss, "the memory this system has available (" + MiB(*avail) + " free or reclaimable)",
              false);
  }
  for (auto [resource, name] : {std::pair{RLIMIT_AS, "the address-space limit (ulimit -v) of "},
                                std::pair{RLIMIT_DATA, "the data-segment limit (ulimit -d) of "}}) {
    struct rlimit rl {};
    if (getrlimit(resource, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
      Tighten(m.virtual_, rl.rlim_cur, std::string(name) + MiB(rl.rlim_cur), true);
  }
  return m;
}

Status CheckMemory(const std::string& what, const MemoryNeed& need, const MemoryLimits& limits) {
  auto fail = [&](const std::string& needed, const std::string& breakdown, const MemoryLimit& l,
                  const std::string& allowed) {
    return Error("not enough memory for " + what + ": it needs about " + needed + " (" + breakdown + ") but " +
                 l.source + " " + allowed +
                 ". Use a smaller --ctx, a 4-bit GGUF, --encoder-type Q8_0 or --text-only, or raise the limit");
  };
  if (limits.resident) {
    const uint64_t needed = limits.rss + need.resident;
    if (needed > limits.resident->bytes)
      return fail(MiB(needed), "in use or promised " + MiB(limits.rss) + " + " + need.breakdown, *limits.resident,
                  "allows " + MiB(limits.resident->bytes));
  }
  if (limits.virtual_) {
    const uint64_t have = limits.virtual_->bytes > limits.vm_size ? limits.virtual_->bytes - limits.vm_size : 0;
    if (need.reserved > have)
      return fail(MiB(need.reserved) + " more address space", need.breakdown, *limits.virtual_,
                  "leaves " + MiB(have) + " beyond the " + MiB(limits.vm_size) + " mapped already");
  }
  return Status();
}

void MemoryLedger::Init(const MemoryLimits& limits, uint64_t committed) {
  std::lock_guard<std::mutex> lock(mu_);
  resident_ = limits.resident;
  committed_ = committed;
}

Status MemoryLedger::Reserve(const std::string& what, const MemoryNeed& need) {
  std::lock_guard<std::mutex> lock(mu_);
  MemoryLimits now;
  now.resident = resident_;
  now.rss = committed_;  // what is promised counts as in use
  const MemoryLimits fresh = ReadMemoryLimits();
  now.virtual_ = fresh.virtual_;
  now.vm_size = fresh.vm_size;
  G3N_RETURN_IF_ERROR(CheckMemory(what, need, now));
  committed_ += need.resident;
  return Status();
}

void MemoryLedger::Release(uint64_t resident) {
  std::lock_guard<std::mutex> lock(mu_);
  committed_ = committed_ > resident ? committed_ - resident : 0;
}

uint64_t MemoryLedger::limit() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resident_ ? resident_->bytes : UINT64_MAX;
}

uint64_t MemoryLedger::committed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_;
}

}  // namespace g3n
