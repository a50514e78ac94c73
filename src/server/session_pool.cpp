#include "server/session_pool.h"

#include <algorithm>

namespace g3n::server {
namespace {

size_t CommonPrefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

ApiError Internal(const std::string& what) {
  return ApiError{500, what + ": " + g3n_last_error(), "", "", ""};
}

}  // namespace

SessionPool::SessionPool(g3n_model* model, int size) : model_(model), slots_(static_cast<size_t>(std::max(1, size))) {
  g3n_model_info info{};
  g3n_model_get_info(model, &info);
  first_media_id_ = info.first_media_id;
}

SessionPool::~SessionPool() {
  for (Slot& s : slots_) g3n_session_free(s.session);
}

bool SessionPool::Acquire(const std::vector<int32_t>& prompt, const std::string& variant, Lease* lease,
                          ApiError* error) {
  {
    std::lock_guard<std::mutex> l(mu_);
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < size(); ++i) {
      const Slot& s = slots_[static_cast<size_t>(i)];
      if (s.busy) continue;
      const size_t len = s.variant == variant ? CommonPrefix(s.tokens, prompt) : 0;
      if (best < 0 || len > best_len || (len == best_len && s.last_used < slots_[static_cast<size_t>(best)].last_used)) {
        best = i;
        best_len = len;
      }
    }
    if (best < 0) {
      *error = ApiError{503, "no idle session (the pool is smaller than --max-concurrent)", "", "", ""};
      return false;
    }
    Slot& s = slots_[static_cast<size_t>(best)];
    s.busy = true;
    s.last_used = ++clock_;
    lease->slot = best;
    lease->session = s.session;
    lease->reused = best_len;
  }
  // Outside the lock: creating a session allocates its caches.
  Slot& s = slots_[static_cast<size_t>(lease->slot)];
  if (s.session != nullptr && s.variant != variant) {
    g3n_session_free(s.session);
    s.session = nullptr;
  }
  if (s.session == nullptr) {
    g3n_session_options so;
    g3n_session_options_init(&so);
    so.sub_model = variant.c_str();
    s.variant = variant;
    const g3n_status created = g3n_session_create_ex(model_, &so, &s.session);
    if (created != G3N_OK) {
      // The memory limits leave no room for another session's KV cache: a retryable 503.
      *error = created == G3N_ERR_OUT_OF_MEMORY ? ApiError{503, g3n_last_error(), "", "insufficient_memory", ""}
                                                : Internal("cannot create a session");
      Release(*lease);
      return false;
    }
    lease->session = s.session;
  }
  if (g3n_session_truncate(s.session, lease->reused) != G3N_OK ||
      g3n_session_add_tokens(s.session, prompt.data() + lease->reused, prompt.size() - lease->reused) != G3N_OK) {
    // Out-of-vocabulary ids are the caller's error; anything else is ours.
    *error = ApiError{400, g3n_last_error(), "prompt", "", ""};
    g3n_session_reset(s.session);
    lease->reused = 0;
    Release(*lease);
    return false;
  }
  return true;
}

void SessionPool::Release(const Lease& lease) {
  Slot& s = slots_[static_cast<size_t>(lease.slot)];
  std::vector<int32_t> tokens;
  size_t n = 0;
  if (s.session != nullptr && g3n_session_get_tokens(s.session, nullptr, 0, &n) == G3N_ERR_BUFFER_TOO_SMALL) {
    tokens.resize(n);
    if (g3n_session_get_tokens(s.session, tokens.data(), n, &n) != G3N_OK) tokens.clear();
  }
  // Ids are not enough to match media: another request's image has the same soft-token ids.
  auto media = std::find_if(tokens.begin(), tokens.end(), [&](int32_t id) { return id >= first_media_id_; });
  tokens.erase(media, tokens.end());
  std::lock_guard<std::mutex> l(mu_);
  s.tokens = std::move(tokens);
  s.busy = false;
}

}  // namespace g3n::server
