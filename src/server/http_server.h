// A small HTTP/1.1 server on POSIX sockets: one thread per connection (bounded), keep-alive,
// Content-Length request bodies, complete or chunked (streamed) responses, and limits on head
// size, body size, read/write/idle time and connection count. Malformed or oversized requests
// get their 4xx here and never reach the handler.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "server/http_types.h"
#include "server/socket_io.h"
#include "util/status.h"

namespace g3n::server {

struct HttpLimits {
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 16 << 20;
  int max_connections = 256;
  double read_timeout_s = 30;   // to receive a whole request once its first byte arrived
  double idle_timeout_s = 60;   // between requests on a kept-alive connection
  double write_timeout_s = 30;  // for each write of a response
};

// How a handler answers: either Send() once, or BeginStream() + Write()... + End().
class ResponseWriter {
 public:
  ResponseWriter(SocketIo& io, bool keep_alive, double write_timeout_s)
      : io_(io), keep_alive_(keep_alive), write_timeout_s_(write_timeout_s) {}

  bool Send(const HttpResponse& response);
  bool BeginStream(int status, const std::string& content_type,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});
  bool Write(std::string_view data);  // one chunk; false once the client is gone
  bool End();
  // The client closed its side (it will never read the answer). Thread-safe.
  bool PeerGone() const { return io_.PeerGone(); }

  bool started() const { return started_; }
  bool finished() const { return finished_; }
  bool failed() const { return failed_; }
  bool keep_alive() const { return keep_alive_; }
  int status() const { return status_; }
  void set_close() { keep_alive_ = false; }

 private:
  std::string Head(int status, const std::string& content_type,
                   const std::vector<std::pair<std::string, std::string>>& headers, const std::string* length) const;
  bool Put(std::string_view data);

  SocketIo& io_;
  bool keep_alive_;
  double write_timeout_s_;
  bool started_ = false, finished_ = false, failed_ = false, streaming_ = false;
  int status_ = 0;
};

class HttpServer {
 public:
  using Handler = std::function<void(const HttpRequest&, ResponseWriter&)>;
  // The body of an error the server itself answers (400, 408, 413, 431, 501, 503, 505).
  using ErrorBody = std::function<HttpResponse(int status, const std::string& message)>;
  using Logger = std::function<void(const HttpRequest&, int status, double seconds)>;

  HttpServer(HttpLimits limits, Handler handler, ErrorBody error_body, Logger logger = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0: a free one) and starts accepting.
  Status Start(const std::string& host, int port);
  int port() const { return port_; }
  // Stops accepting, shuts every open connection down and waits for their threads.
  void Stop();
  int open_connections() const;

 private:
  void AcceptLoop();
  void Serve(int fd, std::string remote);
  bool ReadRequest(SocketIo& io, std::string& buf, HttpRequest* req, int* rejected);
  int Reject(SocketIo& io, int status, const std::string& message, size_t unread_body);

  HttpLimits limits_;
  Handler handler_;
  ErrorBody error_body_;
  Logger logger_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::set<SocketIo*> open_;
  int threads_ = 0;
};

}  // namespace g3n::server
