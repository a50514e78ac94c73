// A first-come-first-served lock (ticket lock). Sessions sharing one model take it around each
// forward step: the decoder's thread pool is not reentrant, and FIFO order makes concurrent
// generations interleave step by step instead of one starving the others (std::mutex promises
// no order, and a thread that unlocks and relocks at once usually wins).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace g3n::api {

class FairLock {
 public:
  void lock() {
    std::unique_lock<std::mutex> l(mu_);
    const uint64_t ticket = next_++;
    cv_.wait(l, [&] { return serving_ == ticket; });
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> l(mu_);
      ++serving_;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_ = 0, serving_ = 0;
};

}  // namespace g3n::api
