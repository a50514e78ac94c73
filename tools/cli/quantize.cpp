// gemma3n quantize: HF Gemma 3n folder -> GGUF in llama.cpp's gemma3n layout (model/gguf_convert.h
// documents the type rules of each --type mix).
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/common.h"
#include "model/gguf_convert.h"

namespace g3n::cli {
namespace {

// One stderr line redrawn in place: [=====>    ]  45%  123/275 tensors  1.2/2.7 GiB  name
class ProgressBar {
 public:
  void Update(size_t done, size_t total, uint64_t bytes, uint64_t total_bytes, const std::string& name) {
    const double frac = total_bytes > 0 ? static_cast<double>(bytes) / static_cast<double>(total_bytes) : 1.0;
    const auto now = std::chrono::steady_clock::now();
    if (done != total && now - last_ < std::chrono::milliseconds(200)) return;  // redraw 5x a second
    last_ = now;
    const int width = 30, fill = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(width), ' ');
    for (int i = 0; i < fill; ++i) bar[i] = '=';
    if (fill < width) bar[fill] = '>';
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\r[%s] %3d%% %zu/%zu tensors %.2f/%.2f GiB %.0fs %-36.36s", bar.c_str(),
                 static_cast<int>(frac * 100.0), done, total, bytes / 1073741824.0, total_bytes / 1073741824.0, secs,
                 name.c_str());
    if (done == total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

int QuantizeCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "type", "embed-type", "ple-type", "out"});
  if (!st.ok()) return Fail(st);
  if (!args.Has("model")) return Fail(Error("--model DIR is required (a Hugging Face Gemma 3n checkpoint folder)"));
  if (!args.Has("out")) return Fail(Error("--out FILE.gguf is required"));
  GgufConvertOptions opt;
  auto mix = ParseGgufMix(args.Get("type", "F16"));
  if (!mix.ok()) return Fail(mix.status());
  opt.mix = *mix;
  if (args.Has("embed-type")) {
    auto t = ParseGgufTensorType(args.Get("embed-type"));
    if (!t.ok()) return Fail(t.status());
    opt.embed_type = *t;
  }
  if (args.Has("ple-type")) {
    auto t = ParseGgufTensorType(args.Get("ple-type"));
    if (!t.ok()) return Fail(t.status());
    opt.ple_type = *t;
  }
  const std::string dir = args.Get("model"), out = args.Get("out");
  auto model = LoadModel(dir);
  if (!model.ok()) return Fail(model.status());
  if ((*model)->from_gguf) return Fail(Error(dir + ": --model must be a Hugging Face folder, not a GGUF file"));
  ProgressBar bar;
  opt.progress = [&](size_t d, size_t n, uint64_t b, uint64_t tb, const std::string& name) { bar.Update(d, n, b, tb, name); };
  std::string warning;
  st = ConvertToGguf(**model, dir, out, opt, &warning);
  if (!warning.empty()) std::fprintf(stderr, "warning: %s\n", warning.c_str());
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr, "wrote %s (%s)\n", out.c_str(), GgufMixName(opt.mix));
  return 0;
}

}  // namespace g3n::cli
