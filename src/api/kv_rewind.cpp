#include "api/kv_rewind.h"

#include <algorithm>

namespace g3n::api {

bool CanRewind(const Session& session, int window, int pos) {
  if (pos < 0 || pos > session.pos) return false;
  // Rows above pos may have overwritten older ring slots: measure from the highest write.
  const int back = std::max(session.pos, session.written) - pos;
  for (const auto* caches : {&session.k_cache, &session.v_cache}) {
    for (const auto& store : *caches) {
      if (store != nullptr && store->ring() && back > store->slots() - window + 1) return false;
    }
  }
  return true;
}

}  // namespace g3n::api
