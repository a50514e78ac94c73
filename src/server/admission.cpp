#include "server/admission.h"

#include <algorithm>

namespace g3n::server {

Admission::Outcome Admission::Enter(std::chrono::steady_clock::time_point deadline,
                                    const std::function<bool()>& abandoned) {
  std::unique_lock<std::mutex> l(mu_);
  if (shutdown_) return Outcome::kShutdown;
  if (waiting_.empty() && active_ < max_active_) {
    ++active_;
    return Outcome::kAdmitted;
  }
  if (static_cast<int>(waiting_.size()) >= max_queue_) return Outcome::kQueueFull;
  const uint64_t ticket = next_ticket_++;
  waiting_.push_back(ticket);
  Outcome out = Outcome::kAdmitted;
  while (true) {
    if (shutdown_) {
      out = Outcome::kShutdown;
      break;
    }
    if (waiting_.front() == ticket && active_ < max_active_) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      out = Outcome::kTimedOut;
      break;
    }
    if (abandoned && abandoned()) {
      out = Outcome::kAbandoned;
      break;
    }
    // Woken by Leave(); the timeout only serves the deadline and `abandoned` polls.
    cv_.wait_for(l, std::chrono::milliseconds(50));
  }
  waiting_.erase(std::find(waiting_.begin(), waiting_.end(), ticket));
  if (out == Outcome::kAdmitted) ++active_;
  cv_.notify_all();  // the next in line may be at the front now
  return out;
}

void Admission::Leave() {
  {
    std::lock_guard<std::mutex> l(mu_);
    --active_;
  }
  cv_.notify_all();
}

void Admission::Shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

int Admission::active() const {
  std::lock_guard<std::mutex> l(mu_);
  return active_;
}

int Admission::queued() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(waiting_.size());
}

}  // namespace g3n::server
