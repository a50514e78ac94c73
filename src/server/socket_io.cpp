#include "server/socket_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace g3n::server {
namespace {

// Milliseconds left until `deadline`, at least 0, at most a minute per poll.
int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60000));
}

}  // namespace

SocketIo::~SocketIo() {
  if (fd_ >= 0) ::close(fd_);
}

SocketIo::ReadResult SocketIo::ReadSome(std::string& buf, Clock::time_point deadline, size_t max_bytes) {
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    const int ms = MillisLeft(deadline);
    const int r = ::poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ReadResult::kError;
    if (r == 0) {
      if (Clock::now() >= deadline) return ReadResult::kTimeout;
      continue;
    }
    const size_t old = buf.size();
    buf.resize(old + max_bytes);
    const ssize_t n = ::recv(fd_, buf.data() + old, max_bytes, 0);
    buf.resize(old + std::max<ssize_t>(n, 0));
    if (n > 0) return ReadResult::kData;
    if (n == 0) return ReadResult::kClosed;
    if (errno == EINTR || errno == EAGAIN) continue;
    return ReadResult::kError;
  }
}

bool SocketIo::WriteAll(std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    pollfd p{fd_, POLLOUT, 0};
    const int ms = MillisLeft(deadline);
    if (ms == 0) return false;
    const int r = ::poll(&p, 1, ms);
    if (r < 0 && errno != EINTR) return false;
    if (r > 0 && (p.revents & (POLLERR | POLLHUP))) return false;
  }
  return true;
}

bool SocketIo::PeerGone() const {
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
  if (p.revents & POLLIN) {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }
  return false;
}

void SocketIo::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

void SocketIo::Abort() { ::shutdown(fd_, SHUT_RDWR); }

}  // namespace g3n::server
