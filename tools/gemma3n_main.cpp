// gemma3n: one binary, one subcommand per job.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/common.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: gemma3n <command> [flags]   (run/logits/bench/info/chat take [--submodel NAME|FILE])\n"
               "  run     --model DIR (--prompt TEXT [--chat] | --tokens 2,106,...) [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]\n"
               "          [--repeat-penalty R] [--seed S] [--greedy] [--ctx N] [-t THREADS]\n"
               "  logits  --model DIR --tokens 2,106,... --out FILE.npy   (float32 [T, vocab])\n"
               "  bench   --model DIR [-p 512] [-n 128] [-t THREADS] [--json] [--memory] [--kv-type f16] [--no-warmup]\n"
               "  info    --model DIR\n"
               "  tokenize --model DIR [--prompt TEXT | stdin] [--no-bos] [--chat] [--jsonl] [--pieces] [--tokenizer DIR]\n"
               "  detokenize --model DIR [--ids|--tokens 2,105,...] [--jsonl] [--skip-special]\n"
               "  chat    --model DIR [--system TEXT]   (interactive, streaming)\n"
               "  quantize --model HF_DIR --type Q4_0|Q8_0|Q4_K_M|... --out FILE.gguf\n"
               "  slice   --model E4B_DIR --submodel NAME|SPEC_FILE --out DIR|FILE.gguf [--shard-gb 4] [--type MIX]\n"
               "  serve   --model DIR [--port 8080]   (OpenAI-compatible HTTP server)\n"
               "  transcribe --model DIR FILE [--translate-to LANG] [--json]   (speech to text, any length)\n"
               "  (run: --image FILE / --audio FILE, repeatable; run/chat/serve: --text-only refuses media)\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace g3n::cli;
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
    Usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  // `transcribe FILE ...`: the file may come first, without a flag.
  std::string file_flag = "--file";
  std::vector<char*> rest(argv + 2, argv + argc);
  if (cmd == "transcribe" && !rest.empty() && rest[0][0] != '-') rest.insert(rest.begin(), file_flag.data());
  auto args = Args::Parse(static_cast<int>(rest.size()), rest.data(), {"json", "greedy", "verbose", "memory", "text-only", "ids-only", "chat", "no-bos", "pieces", "jsonl", "force", "skip-special", "no-warmup"});
  if (!args.ok()) {
    Fail(args.status());
    Usage();
    return 2;
  }
  if (cmd == "run") return RunCommand(*args);
  if (cmd == "logits") return LogitsCommand(*args);
  if (cmd == "bench") return BenchCommand(*args);
  if (cmd == "info") return InfoCommand(*args);
  if (cmd == "tokenize") return TokenizeCommand(*args);
  if (cmd == "detokenize") return DetokenizeCommand(*args);
  if (cmd == "chat") return ChatCommand(*args);
  if (cmd == "quantize") return QuantizeCommand(*args);
  if (cmd == "slice") return SliceCommand(*args);
  if (cmd == "serve") return ServeCommand(*args);
  if (cmd == "transcribe") return TranscribeCommand(*args);
  std::fprintf(stderr, "error: unknown command '%s'\n", cmd.c_str());
  Usage();
  return 2;
}
