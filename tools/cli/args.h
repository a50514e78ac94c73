// Minimal flag parsing for the gemma3n subcommands: --name value, --name=value, -x value.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "util/status.h"

namespace g3n::cli {

class Args {
 public:
  // `flags` lists the flags that take no value.
  static Result<Args> Parse(int argc, char** argv, const std::vector<std::string>& bool_flags);
  bool Has(const std::string& k) const { return values_.count(k) != 0; }
  std::string Get(const std::string& k, const std::string& def = "") const;
  Result<int> GetInt(const std::string& k, int def) const;
  Result<double> GetDouble(const std::string& k, double def) const;
  Status CheckKnown(const std::vector<std::string>& known) const;
  // Every value of a repeatable flag (--image a.jpg --image b.png), in order.
  std::vector<std::string> GetAll(const std::string& k) const;

 private:
  std::map<std::string, std::string> values_;  // the last value of each flag
  std::map<std::string, std::vector<std::string>> all_;
};

Result<std::vector<int32_t>> ParseTokenList(const std::string& s);

}  // namespace g3n::cli
