// What every model-running subcommand shares: load the model, a thread pool, a decoder.
#pragma once
#include <cstdio>
#include <memory>
#include <string>

#include "cli/args.h"
#include "kernels/thread_pool.h"
#include "model/model.h"
#include "model/submodel.h"
#include "model/text_decoder.h"

namespace g3n::cli {

struct Engine {
  std::unique_ptr<Model> model;
  std::unique_ptr<SubModel> submodel;  // heap: the decoder keeps references; declared before decoder so it outlives it
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<TextDecoder> decoder;
  double load_seconds = 0.0;
  const TextConfig& text() const { return submodel ? submodel->config : model->config.text; }
  const TextWeights& weights() const { return submodel ? submodel->weights : model->weights; }
};

Result<Engine> LoadEngine(const Args& args);
// Context size from --ctx (default: min(4096, max_position_embeddings)).
Result<int> ContextSize(const Args& args, const Engine& e);
// --ctx, --chunk (prefill chunk, default 128) and --kv-type (default f16).
Result<SessionOptions> SessionFromArgs(const Args& args, const Engine& e);

int Fail(const Status& st);  // prints "error: ..." and returns 1

int RunCommand(const Args& args);
int LogitsCommand(const Args& args);
int BenchCommand(const Args& args);
int InfoCommand(const Args& args);
int TokenizeCommand(const Args& args);
int DetokenizeCommand(const Args& args);
int ChatCommand(const Args& args);
int QuantizeCommand(const Args& args);
int SliceCommand(const Args& args);
int ServeCommand(const Args& args);
int TranscribeCommand(const Args& args);

}  // namespace g3n::cli
