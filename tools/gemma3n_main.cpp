// gemma3n: one binary, one subcommand per job.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/common.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: gemma3n <command> [flags]\n"
               "  run     --model DIR --tokens 2,106,... [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]\n"
               "          [--repeat-penalty R] [--seed S] [--greedy] [--ctx N] [-t THREADS]\n"
               "  logits  --model DIR --tokens 2,106,... --out FILE.npy   (float32 [T, vocab])\n"
               "  bench   --model DIR [-p 512] [-n 128] [-t THREADS] [--json] [--memory] [--kv-type f16]\n"
               "  info    --model DIR\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace g3n::cli;
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
    Usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  auto args = Args::Parse(argc - 2, argv + 2, {"json", "greedy", "verbose", "memory", "text-only", "ids-only"});
  if (!args.ok()) {
    Fail(args.status());
    Usage();
    return 2;
  }
  if (cmd == "run") return RunCommand(*args);
  if (cmd == "logits") return LogitsCommand(*args);
  if (cmd == "bench") return BenchCommand(*args);
  if (cmd == "info") return InfoCommand(*args);
  std::fprintf(stderr, "error: unknown command '%s'\n", cmd.c_str());
  Usage();
  return 2;
}
