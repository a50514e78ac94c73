// One TCP connection's I/O with deadlines: every read and write waits in poll() for at most the
// time left, so a slow or silent peer costs a thread for a bounded time only. Writes never
// raise SIGPIPE (MSG_NOSIGNAL): a vanished peer is an error value.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace g3n::server {

using Clock = std::chrono::steady_clock;

class SocketIo {
 public:
  explicit SocketIo(int fd) : fd_(fd) {}
  ~SocketIo();
  SocketIo(const SocketIo&) = delete;
  SocketIo& operator=(const SocketIo&) = delete;

  enum class ReadResult { kData, kClosed, kTimeout, kError };
  // Appends what is available (waiting until `deadline` for something) to `buf`.
  ReadResult ReadSome(std::string& buf, Clock::time_point deadline, size_t max_bytes = 64 << 10);
  // All of `data`, or false (timeout, peer gone).
  bool WriteAll(std::string_view data, Clock::time_point deadline);
  // True once the peer has closed its side or reset: a client that went away. Pending request
  // bytes (pipelining) do not count. Safe to call from another thread while this one writes.
  bool PeerGone() const;
  // Stops further writes (FIN to the peer) but keeps reading possible.
  void ShutdownWrite();
  // Wakes a thread blocked on this socket (shutdown of both directions); for server stop.
  void Abort();
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace g3n::server
