// gemma3n logits: float32 logits of every position as a .npy file, for comparing engines.
#include <cstdio>
#include <vector>

#include "cli/common.h"

namespace g3n::cli {

Status WriteNpyF32(const std::string& path, const float* data, int64_t rows, int64_t cols) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Error(path + ": cannot open for writing");
  const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  const uint16_t hlen = static_cast<uint16_t>(header.size());
  const unsigned char len[2] = {static_cast<unsigned char>(hlen & 0xff), static_cast<unsigned char>(hlen >> 8)};
  bool ok = std::fwrite(magic, 1, 8, f) == 8 && std::fwrite(len, 1, 2, f) == 2 &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            std::fwrite(data, sizeof(float), rows * cols, f) == static_cast<size_t>(rows * cols);
  ok = std::fclose(f) == 0 && ok;
  return ok ? Status() : Error(path + ": write failed");
}

int LogitsCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "submodel", "tokens", "out", "ctx", "t", "threads"});
  if (!st.ok()) return Fail(st);
  if (!args.Has("tokens") || !args.Has("out")) return Fail(Error("--tokens 2,106,... and --out FILE.npy are required"));
  auto tokens = ParseTokenList(args.Get("tokens"));
  if (!tokens.ok()) return Fail(tokens.status());
  auto engine = LoadEngine(args);
  if (!engine.ok()) return Fail(engine.status());
  auto ctx = ContextSize(args, *engine);
  if (!ctx.ok()) return Fail(ctx.status());
  const int T = static_cast<int>(tokens->size());
  const int V = engine->model->config.text.vocab_size;
  Session session = engine->decoder->NewSession(std::max(*ctx, T));
  std::vector<int> rows(T);
  for (int i = 0; i < T; ++i) rows[i] = i;
  std::vector<float> logits(static_cast<size_t>(T) * V);
  st = engine->decoder->Forward(session, tokens->data(), T, rows, logits.data());
  if (!st.ok()) return Fail(st);
  st = WriteNpyF32(args.Get("out"), logits.data(), T, V);
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr, "wrote %s: float32 [%d, %d]\n", args.Get("out").c_str(), T, V);
  return 0;
}

}  // namespace g3n::cli
