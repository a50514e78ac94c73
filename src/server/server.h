// `gemma3n serve`: the OpenAI-compatible HTTP server around one model.
//   POST /v1/chat/completions, POST /v1/completions (non-streaming and SSE streaming)
//   GET /v1/models, GET /v1/models/{id}, GET /health, GET / (the web chat page)
// The /v1 prefix is optional. Errors are OpenAI error objects.
#pragma once
#include <memory>
#include <string>

#include "gemma3n.h"
#include "server/completion_service.h"
#include "server/http_server.h"
#include "util/status.h"

namespace g3n::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  int port = 8080;                 // 0: any free port (see Server::port())
  std::string model_id;            // the name clients see; empty: the model folder's name
  ServiceLimits limits;
  HttpLimits http;
  bool log_requests = true;        // one line per request on stderr
};

class Server {
 public:
  // `model` must outlive the server.
  Server(g3n_model* model, ServerOptions options);
  ~Server();

  Status Start();
  int port() const { return http_->port(); }
  // Refuses new work, ends running generations and waits for every connection to close.
  void Stop();

 private:
  void Route(const HttpRequest& req, ResponseWriter& w);
  void Models(const HttpRequest& req, ResponseWriter& w);
  void Health(ResponseWriter& w);

  ServerOptions options_;
  CompletionService service_;
  std::unique_ptr<HttpServer> http_;
  long long started_at_;
};

}  // namespace g3n::server
