#include "cli/args.h"

#include <algorithm>
#include <cstdlib>

namespace g3n::cli {

Result<Args> Args::Parse(int argc, char** argv, const std::vector<std::string>& bool_flags) {
  Args a;
  for (int i = 0; i < argc; ++i) {
    std::string k = argv[i];
    if (k.size() < 2 || k[0] != '-') return Error("unexpected argument '" + k + "'");
    k = k.substr(k[1] == '-' ? 2 : 1);
    std::string v = "1";
    const size_t eq = k.find('=');
    if (eq != std::string::npos) {
      v = k.substr(eq + 1);
      k = k.substr(0, eq);
    } else if (std::find(bool_flags.begin(), bool_flags.end(), k) == bool_flags.end()) {
      if (i + 1 >= argc) return Error("flag --" + k + " needs a value");
      v = argv[++i];
    }
    a.values_[k] = v;
    a.all_[k].push_back(v);
  }
  return a;
}

std::vector<std::string> Args::GetAll(const std::string& k) const {
  auto it = all_.find(k);
  return it == all_.end() ? std::vector<std::string>{} : it->second;
}

std::string Args::Get(const std::string& k, const std::string& def) const {
  auto it = values_.find(k);
  return it == values_.end() ? def : it->second;
}

Result<int> Args::GetInt(const std::string& k, int def) const {
  if (!Has(k)) return def;
  const std::string v = Get(k);
  char* end = nullptr;
  const long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || x < -(1l << 31) || x > (1l << 31) - 1)
    return Error("flag --" + k + ": '" + v + "' is not an integer");
  return static_cast<int>(x);
}

Result<double> Args::GetDouble(const std::string& k, double def) const {
  if (!Has(k)) return def;
  const std::string v = Get(k);
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') return Error("flag --" + k + ": '" + v + "' is not a number");
  return x;
}

Status Args::CheckKnown(const std::vector<std::string>& known) const {
  for (const auto& [k, v] : values_)
    if (std::find(known.begin(), known.end(), k) == known.end()) return Error("unknown flag --" + k);
  return Status();
}

Result<std::vector<int32_t>> ParseTokenList(const std::string& s) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    const std::string part = s.substr(i, j - i);
    char* end = nullptr;
    const long x = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || x < 0 || x > (1l << 31) - 1)
      return Error("--tokens: '" + part + "' is not a token id (expected a comma-separated list like 2,106,1645)");
    ids.push_back(static_cast<int32_t>(x));
    i = j + 1;
  }
  if (ids.empty()) return Error("--tokens: empty list");
  return ids;
}

}  // namespace g3n::cli
