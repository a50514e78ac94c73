// Ends requests whose client went away or whose time ran out, even in the middle of a long
// prefill: a thread looks at every running request every 50 ms and cancels its session's
// generation (g3n_session_cancel stops between prefill chunks and decode steps). The token
// callback also sees the verdict, so decoding stops at the next token either way.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "gemma3n.h"

namespace g3n::server {

class Watchdog {
 public:
  enum Verdict : int { kRunning = 0, kClientGone = 1, kTimedOut = 2, kShutdown = 3 };

  struct Watch {
    std::function<bool()> gone;                      // the client closed its connection
    std::chrono::steady_clock::time_point deadline;  // the request's time limit
    g3n_session* session = nullptr;                  // set while it generates (under the lock)
    std::atomic<int> verdict{kRunning};
  };

  Watchdog();
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void Add(Watch* w);
  void SetSession(Watch* w, g3n_session* s);
  // After Remove returns, the watchdog never touches `w` or its session again.
  void Remove(Watch* w);
  void CancelAll();  // server stop: every watched request ends with kShutdown

 private:
  void Loop();
  void Judge(Watch* w);

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<Watch*> watches_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace g3n::server
