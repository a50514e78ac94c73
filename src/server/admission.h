// Admission control: at most `max_active` requests generate at once; up to `max_queue` more
// wait in arrival order; anything beyond is refused at once (HTTP 503), so a burst can never
// pile up unbounded work or memory.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

namespace g3n::server {

class Admission {
 public:
  Admission(int max_active, int max_queue) : max_active_(max_active), max_queue_(max_queue) {}

  enum class Outcome { kAdmitted, kQueueFull, kTimedOut, kAbandoned, kShutdown };
  // Waits (in FIFO order) for a free slot until `deadline`; `abandoned` is polled while waiting
  // (a client that went away gives its place up). kAdmitted must be paired with Leave().
  Outcome Enter(std::chrono::steady_clock::time_point deadline, const std::function<bool()>& abandoned);
  void Leave();
  void Shutdown();  // every waiter returns kShutdown; new callers too

  int active() const;
  int queued() const;

 private:
  const int max_active_, max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<uint64_t> waiting_;  // tickets in arrival order
  uint64_t next_ticket_ = 0;
  int active_ = 0;
  bool shutdown_ = false;
};

}  // namespace g3n::server
