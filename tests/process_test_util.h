// Running a command line from a test: its exit status and everything it printed.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace g3n::testing {

struct CommandOutput {
  int status = -1;   // exit status; -1 when it did not exit normally
  std::string text;  // stdout + stderr
};

// `cmd` runs under /bin/sh with stderr folded into stdout.
inline CommandOutput RunCommand(const std::string& cmd) {
  CommandOutput o;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return o;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) o.text.append(buf.data(), n);
  const int st = pclose(p);
  o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return o;
}

}  // namespace g3n::testing
