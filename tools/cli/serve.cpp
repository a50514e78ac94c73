// gemma3n serve: the OpenAI-compatible HTTP server with the web chat page (src/server/).
//
//   serve --model DIR [--port 8080] [--host 127.0.0.1] [--max-concurrent 4] [--queue 32]
//         [--max-tokens 2048] [--timeout 600] [--max-body-mb 16] [--read-timeout 30] [--cache-sessions N]
//         [--alias NAME] [--ctx N] [--chunk 128] [--kv-type f16] [-t THREADS] [--submodel NAME]
//         [--text-only] [--media-dir DIR]   (image_url parts may name local files under DIR)
//
// Prints "listening on http://HOST:PORT" on stdout once it accepts connections (--port 0 picks
// a free port, which that line names) and runs until SIGINT or SIGTERM, then stops cleanly:
// running generations end, connections close. Built on the C API (include/gemma3n.h).
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/api_model.h"
#include "cli/args.h"
#include "gemma3n.h"
#include "server/server.h"

namespace g3n::cli {

int Fail(const Status& st);  // cli/common.cpp

namespace {

Result<server::ServerOptions> ServerOptionsFromArgs(const Args& a) {
  server::ServerOptions o;
  o.host = a.Get("host", o.host);
  G3N_ASSIGN_OR_RETURN(o.port, a.GetInt("port", o.port));
  G3N_ASSIGN_OR_RETURN(o.limits.max_concurrent, a.GetInt("max-concurrent", o.limits.max_concurrent));
  G3N_ASSIGN_OR_RETURN(o.limits.queue, a.GetInt("queue", o.limits.queue));
  G3N_ASSIGN_OR_RETURN(o.limits.max_tokens, a.GetInt("max-tokens", o.limits.max_tokens));
  G3N_ASSIGN_OR_RETURN(o.limits.timeout_s, a.GetDouble("timeout", o.limits.timeout_s));
  G3N_ASSIGN_OR_RETURN(o.limits.cache_sessions, a.GetInt("cache-sessions", o.limits.cache_sessions));
  o.limits.media_dir = a.Get("media-dir", "");
  G3N_ASSIGN_OR_RETURN(double body_mb, a.GetDouble("max-body-mb", o.http.max_body_bytes / 1048576.0));
  G3N_ASSIGN_OR_RETURN(o.http.read_timeout_s, a.GetDouble("read-timeout", o.http.read_timeout_s));
  o.model_id = a.Get("alias");
  if (o.limits.max_concurrent < 1 || o.limits.queue < 0 || o.limits.max_tokens < 1 || !(o.limits.timeout_s > 0) ||
      o.limits.cache_sessions < 0 || !(body_mb > 0) || !(o.http.read_timeout_s > 0))
    return Error("serve: need --max-concurrent >= 1, --queue >= 0, --max-tokens >= 1, --timeout > 0, "
                 "--cache-sessions >= 0, --max-body-mb > 0, --read-timeout > 0");
  o.http.max_body_bytes = static_cast<size_t>(body_mb * 1048576.0);
  o.http.max_connections = std::max(o.http.max_connections, 2 * (o.limits.max_concurrent + o.limits.queue) + 16);
  return o;
}

}  // namespace

int ServeCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "port", "host", "max-concurrent", "queue", "max-tokens", "timeout",
                               "max-body-mb", "read-timeout", "cache-sessions", "alias", "ctx", "chunk", "kv-type", "t", "threads", "submodel",
                               "media-dir", "text-only", "mmproj", "encoder-type", "memory-limit"});
  if (!st.ok()) return Fail(st);
  if (!args.Has("model")) return Fail(Error("--model DIR is required"));
  auto options = ServerOptionsFromArgs(args);
  if (!options.ok()) return Fail(options.status());
  auto flags = ModelFlagsFromArgs(args);
  if (!flags.ok()) return Fail(flags.status());
  const g3n_model_options& mo = (*flags)->options;

  // SIGINT/SIGTERM are taken by sigwait below: block them before any thread starts, so that
  // every thread inherits the mask and none is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  g3n_model* model = nullptr;
  if (g3n_model_load(args.Get("model").c_str(), &mo, &model) != G3N_OK) return Fail(Error(g3n_last_error()));
  int rc = 0;
  {
    server::Server srv(model, *options);
    st = srv.Start();
    if (!st.ok()) {
      rc = Fail(st);
    } else {
      g3n_model_info info{};
      g3n_model_get_info(model, &info);
      const bool v6 = options->host.find(':') != std::string::npos;  // an IPv6 literal goes in brackets
      std::printf("gemma3n serve: listening on http://%s%s%s:%d (model %s, context %d, %d threads, %d concurrent, "
                  "queue %d)\n",
                  v6 ? "[" : "", options->host.c_str(), v6 ? "]" : "", srv.port(), info.name, info.context, info.threads,
                  options->limits.max_concurrent, options->limits.queue);
      std::fflush(stdout);
      int sig = 0;
      sigwait(&stop_signals, &sig);
      std::fprintf(stderr, "[serve] %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      srv.Stop();
    }
  }
  g3n_model_free(model);
  return rc;
}

}  // namespace g3n::cli
