#include "server/watchdog.h"

namespace g3n::server {

Watchdog::Watchdog() : thread_([this] { Loop(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Watchdog::Add(Watch* w) {
  std::lock_guard<std::mutex> l(mu_);
  watches_.insert(w);
}

void Watchdog::SetSession(Watch* w, g3n_session* s) {
  std::lock_guard<std::mutex> l(mu_);
  w->session = s;
  Judge(w);  // a verdict reached while it waited in the queue applies at once
}

void Watchdog::Remove(Watch* w) {
  std::lock_guard<std::mutex> l(mu_);
  watches_.erase(w);
  w->session = nullptr;
}

void Watchdog::CancelAll() {
  std::lock_guard<std::mutex> l(mu_);
  for (Watch* w : watches_) {
    int expected = kRunning;
    w->verdict.compare_exchange_strong(expected, kShutdown);
    if (w->session != nullptr) g3n_session_cancel(w->session);
  }
}

// Called with mu_ held.
void Watchdog::Judge(Watch* w) {
  if (w->verdict == kRunning) {
    if (w->gone && w->gone()) {
      w->verdict = kClientGone;
    } else if (std::chrono::steady_clock::now() >= w->deadline) {
      w->verdict = kTimedOut;
    }
  }
  // Cancelling again each round is harmless and covers a generation that started just after
  // an earlier cancel (a cancel only reaches the generation running at that moment).
  if (w->verdict != kRunning && w->session != nullptr) g3n_session_cancel(w->session);
}

void Watchdog::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    cv_.wait_for(l, std::chrono::milliseconds(50));
    for (Watch* w : watches_) Judge(w);
  }
}

}  // namespace g3n::server
