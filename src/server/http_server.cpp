#include "server/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/http_parse.h"
#include "util/sysinfo.h"

namespace g3n::server {
namespace {

Clock::time_point After(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

std::string PeerName(const sockaddr_storage& a) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    port = ntohs(v6->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ResponseWriter

std::string ResponseWriter::Head(int status, const std::string& content_type,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::string* length) const {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) + "\r\n";
  if (!content_type.empty()) h += "Content-Type: " + content_type + "\r\n";
  if (length != nullptr) {
    h += "Content-Length: " + *length + "\r\n";
  } else {
    h += "Transfer-Encoding: chunked\r\n";
  }
  h += keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [k, v] : headers) h += k + ": " + v + "\r\n";
  h += "\r\n";
  return h;
}

bool ResponseWriter::Put(std::string_view data) {
  if (failed_) return false;
  if (!io_.WriteAll(data, After(write_timeout_s_))) failed_ = true;
  return !failed_;
}

bool ResponseWriter::Send(const HttpResponse& r) {
  if (started_) return false;
  started_ = finished_ = true;
  status_ = r.status;
  const std::string length = std::to_string(r.body.size());
  std::string out = Head(r.status, r.content_type, r.headers, &length);
  out += r.body;
  return Put(out);
}

bool ResponseWriter::BeginStream(int status, const std::string& content_type,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  if (started_) return false;
  started_ = streaming_ = true;
  status_ = status;
  return Put(Head(status, content_type, headers, nullptr));
}

bool ResponseWriter::Write(std::string_view data) {
  if (!streaming_ || finished_) return false;
  if (data.empty()) return !failed_;  // an empty chunk would end the body
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out = size;
  out.append(data);
  out += "\r\n";
  return Put(out);
}

bool ResponseWriter::End() {
  if (!streaming_ || finished_) return false;
  finished_ = true;
  return Put("0\r\n\r\n");
}

// ---------------------------------------------------------------------------------------------
// HttpServer

HttpServer::HttpServer(HttpLimits limits, Handler handler, ErrorBody error_body, Logger logger)
    : limits_(limits), handler_(std::move(handler)), error_body_(std::move(error_body)), logger_(std::move(logger)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const std::string& host, int port) {
  if (port < 0 || port > 65535) return Error("port " + std::to_string(port) + " is outside [0, 65535]");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int gai = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (gai != 0) return Error("cannot resolve host '" + host + "': " + gai_strerror(gai));
  std::string why = "no address";
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      listen_fd_ = fd;
      break;
    }
    why = std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(res);
  if (listen_fd_ < 0) return Error("cannot listen on " + host + ":" + service + ": " + why);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return Status();
}

void HttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (accept_thread_.joinable()) accept_thread_.join();  // it polls stopping_
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  std::unique_lock<std::mutex> l(mu_);
  for (SocketIo* io : open_) io->Abort();
  idle_cv_.wait(l, [&] { return threads_ == 0; });
}

int HttpServer::open_connections() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(open_.size());
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;  // wakes every 100 ms to notice Stop()
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;  // EMFILE, ECONNABORTED, ...: the next one may work
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // SSE tokens go out at once
    {
      std::lock_guard<std::mutex> l(mu_);
      if (threads_ >= limits_.max_connections) {
        SocketIo io(fd);
        ResponseWriter w(io, false, 1.0);
        w.Send(error_body_(503, "too many open connections; retry later"));
        continue;
      }
      ++threads_;
    }
    std::thread([this, fd, name = PeerName(peer)] { Serve(fd, name); }).detach();
  }
}

int HttpServer::Reject(SocketIo& io, int status, const std::string& message, size_t unread_body) {
  ResponseWriter w(io, false, limits_.write_timeout_s);
  w.Send(error_body_(status, message));
  // Closing with unread request bytes would reset the connection, and the client, still
  // sending, might never see the answer: read (and drop) what it sends, for a few seconds.
  io.ShutdownWrite();
  const auto deadline = After(5.0);
  std::string sink;
  size_t drained = 0;
  while (drained < unread_body) {
    sink.clear();
    if (io.ReadSome(sink, deadline) != SocketIo::ReadResult::kData) break;
    drained += sink.size();
  }
  return status;
}

// Reads one request into `req`; false when the connection should close (after an error answer
// whose status goes to `rejected`).
bool HttpServer::ReadRequest(SocketIo& io, std::string& buf, HttpRequest* req, int* rejected) {
  bool started = !buf.empty();
  auto deadline = started ? After(limits_.read_timeout_s) : After(limits_.idle_timeout_s);
  size_t head_end;
  while ((head_end = FindHeadEnd(buf)) == std::string::npos) {
    if (buf.size() > limits_.max_header_bytes) {
      *rejected = Reject(io, 431, "request head exceeds " + std::to_string(limits_.max_header_bytes) + " bytes", 0);
            return false;
    }
    const auto r = io.ReadSome(buf, deadline);
    if (r == SocketIo::ReadResult::kData) {
      if (!started) deadline = After(limits_.read_timeout_s);
      started = true;
      continue;
    }
    if (r == SocketIo::ReadResult::kTimeout && started) {
      *rejected = Reject(io, 408, "request not received in time", 0);
          }
    return false;  // closed, idle, or broken
  }
  if (head_end > limits_.max_header_bytes) {
    *rejected = Reject(io, 431, "request head exceeds " + std::to_string(limits_.max_header_bytes) + " bytes", 0);
        return false;
  }
  if (auto err = ParseHead(std::string_view(buf).substr(0, head_end), req)) {
    *rejected = Reject(io, err->status, err->message, 0);
        return false;
  }
  const BodyLength body = RequestBodyLength(*req);
  if (body.error) {
    *rejected = Reject(io, body.error->status, body.error->message, 0);
        return false;
  }
  if (body.length > limits_.max_body_bytes) {
    *rejected = Reject(io, 413,
           "request body of " + std::to_string(body.length) + " bytes exceeds the limit of " +
               std::to_string(limits_.max_body_bytes),
           body.length - std::min(body.length, buf.size() - head_end));
        return false;
  }
  if (buf.size() - head_end < body.length && req->Header("expect") == "100-continue") {
    if (!io.WriteAll("HTTP/1.1 100 Continue\r\n\r\n", After(limits_.write_timeout_s))) return false;
  }
  while (buf.size() - head_end < body.length) {
    const auto r = io.ReadSome(buf, deadline, std::min<size_t>(1 << 20, body.length - (buf.size() - head_end)));
    if (r == SocketIo::ReadResult::kData) continue;
    if (r == SocketIo::ReadResult::kTimeout) {
      *rejected = Reject(io, 408, "request body not received in time", 0);
          }
    return false;
  }
  req->body = buf.substr(head_end, body.length);
  buf.erase(0, head_end + body.length);  // what remains is the next (pipelined) request
  return true;
}

void HttpServer::Serve(int fd, std::string remote) {
  SocketIo io(fd);
  {
    std::lock_guard<std::mutex> l(mu_);
    open_.insert(&io);
    if (stopping_) io.Abort();
  }
  std::string buf;
  while (!stopping_) {
    HttpRequest req;
    req.remote = remote;
    int rejected = 0;
    const double t0 = NowSeconds();
    if (!ReadRequest(io, buf, &req, &rejected)) {
      if (rejected != 0 && logger_) logger_(req, rejected, NowSeconds() - t0);
      break;
    }
    ResponseWriter w(io, WantsKeepAlive(req) && !stopping_, limits_.write_timeout_s);
    try {
      handler_(req, w);
    } catch (const std::exception& e) {
      if (!w.started()) w.Send(error_body_(500, std::string("internal error: ") + e.what()));
    } catch (...) {
      if (!w.started()) w.Send(error_body_(500, "internal error"));
    }
    if (!w.started()) w.Send(error_body_(500, "internal error: the handler sent no response"));
    if (logger_) logger_(req, w.status(), NowSeconds() - t0);
    if (!w.finished() || w.failed() || !w.keep_alive()) break;
  }
  std::lock_guard<std::mutex> l(mu_);
  open_.erase(&io);
  --threads_;
  idle_cv_.notify_all();
  // `io` closes the socket after this scope: Stop() no longer sees it.
}

}  // namespace g3n::server
