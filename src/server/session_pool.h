// The prompt prefix cache: a fixed set of C API sessions, each keeping its KV cache between
// requests. A request takes the idle session whose conversation shares the longest prefix with
// its prompt, cuts that conversation back to the shared prefix (g3n_session_truncate) and adds
// the rest of the prompt, so a multi-turn chat prefills only its new turn. Ties go to the
// least recently used session, which is also the one a fresh prompt evicts.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "gemma3n.h"
#include "server/api_error.h"

namespace g3n::server {

class SessionPool {
 public:
  SessionPool(g3n_model* model, int size);
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  struct Lease {
    int slot = -1;
    g3n_session* session = nullptr;
    size_t reused = 0;  // prompt ids already in the session (before any rewind)
  };
  // A session on sub-model `variant` ("" = the model's default) holding exactly `prompt`
  // (nothing fed yet beyond the shared prefix). Only sessions of the same variant share
  // prefixes; an idle session of another variant is replaced when it is the one evicted.
  // Callers hold an Admission slot, so an idle session always exists (size >= max_active).
  bool Acquire(const std::vector<int32_t>& prompt, const std::string& variant, Lease* lease, ApiError* error);
  // A session that holds nothing (reset), for prompts built inside it (images, audio).
  bool AcquireEmpty(const std::string& variant, Lease* lease, ApiError* error) {
    if (!Acquire({}, variant, lease, error)) return false;
    g3n_session_reset(lease->session);
    return true;
  }

  // Returns the session; its conversation (prompt + answer) is what the next match sees.
  void Release(const Lease& lease);

  int size() const { return static_cast<int>(slots_.size()); }

 private:
  struct Slot {
    g3n_session* session = nullptr;
    std::string variant;          // the sub-model the session runs
    std::vector<int32_t> tokens;  // the conversation when last released
    bool busy = false;
    uint64_t last_used = 0;
  };
  g3n_model* model_;
  int32_t first_media_id_;  // kept conversations end before the first image/audio id
  std::mutex mu_;
  std::vector<Slot> slots_;
  uint64_t clock_ = 0;
};

}  // namespace g3n::server
